import { z } from "zod";
import { channelOf, CUSTOMER_RULE, isBusinessNumber, isCustomerAddress } from "../domain/compliance/e164";
import { AppError } from "../errors";
import { log } from "../log";
import { parseOr400 } from "./validate";

/** A Twilio webhook's fields: name → value, or every value when the name was repeated. */
export type Fields = Record<string, string | string[]>;

/**
 * Twilio posts empty strings for fields it has no value for (`MessagingServiceSid=`, `FromZip=`):
 * empty means absent (contract §3). A repeated name keeps its non-empty values.
 */
export function presentFields(fields: Fields): Fields {
  const out: Fields = Object.create(null);
  for (const [name, value] of Object.entries(fields)) {
    const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== "");
    if (values.length > 0) out[name] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

// A repeated identity field is ambiguous: say so, rather than "expected string".
const once = () => z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must appear once") });
export const sid = (prefix: string) => once().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`), `must be a Twilio SID (${prefix}…)`);

/** The only fields whose absence or malformation refuses an inbound text (contract §3). */
const InboundIdentity = z
  .object({
    MessageSid: sid("(SM|MM)"),
    From: once().refine(isCustomerAddress, CUSTOMER_RULE),
    To: once().refine(isBusinessNumber, "must be an E.164 number, a short code or whatsapp:+ and a number"),
  })
  // A WhatsApp text comes from and to WhatsApp addresses (contract §9); one side only has no thread to go to.
  .refine((f) => channelOf(f.From) === channelOf(f.To), { path: ["To"], message: "must be a WhatsApp address exactly when From is" });

/**
 * MessageSid, From and To, or a 400 — and a loud line: Twilio does not retry a 4xx, so this text
 * is lost, and an operator must hear of it (the message names the fields, never their values).
 */
export function inboundIdentity(fields: Fields) {
  try {
    return parseOr400(InboundIdentity, fields);
  } catch (err) {
    log("error", "inbound.refused", { reason: err instanceof AppError ? err.publicMessage : String(err) });
    throw err;
  }
}

/**
 * Reads the optional fields of a signed webhook without ever refusing it: a value that does not
 * fit is left out, and the names (never the values) of what was left out are logged once, loudly,
 * so an integrator sees a surprise from Twilio without a lost message.
 */
export class OptionalFields {
  private readonly ignored: string[] = [];

  constructor(private readonly fields: Fields) {}

  get<T>(name: string, schema: z.ZodType<T>): T | undefined {
    const raw = this.fields[name];
    if (raw === undefined) return undefined;
    if (Array.isArray(raw)) this.ignored.push(`${name}: repeated, the first value taken`);
    const parsed = schema.safeParse(Array.isArray(raw) ? raw[0] : raw);
    if (parsed.success) return parsed.data;
    this.ignored.push(`${name}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    return undefined;
  }

  note(problem: string): void {
    this.ignored.push(problem);
  }

  report(event: string, messageSid: string): void {
    if (this.ignored.length > 0) log("warn", event, { messageSid, reason: this.ignored.join("; ") });
  }
}
