import { isBusinessNumber } from "../../src/domain/compliance/e164";
import { twilioOpenApi } from "./openapi-subset";
import { isWhatsApp } from "./whatsapp";

/** A request field's schema as the subset keeps it. */
export interface FieldSchema {
  readonly type: string;
  readonly format?: string;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly items?: FieldSchema;
}

type Spec = typeof twilioOpenApi;
type Value<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { type: "integer" | "number" }
    ? number
    : S extends { type: "object" }
      ? Record<string, string>
      : string;
/** The JSON type of a response property: its type or enum, or null where the description allows it. */
export type Property<S> = Value<S> | (S extends { nullable: true } ? null : never);

/** The Message resource as the OpenAPI description defines it: every property, null only where allowed. */
export type MessageResource = { -readonly [K in keyof Spec["message"]]: Property<Spec["message"][K]> };
export type MessageStatus = MessageResource["status"];

export const isMessageStatus = (value: string): value is MessageStatus => (twilioOpenApi.messageStatus as readonly string[]).includes(value);

export interface TwilioDate {
  ms: number;
  /** Only a day was given (YYYY-MM-DD): filters then compare whole UTC days. */
  dateOnly: boolean;
}

/**
 * The date forms the description's own DateSent examples use: `2008-01-02`,
 * `2019-06-11 22:05:25.000` (GMT, as the parameter's description says), `06/11/2019 22:05:25 MST`
 * and RFC 2822; plus ISO 8601 with a zone, which is what the twilio SDKs send.
 */
export function parseTwilioDate(value: string): TwilioDate | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : { ms, dateOnly: true };
  }
  const zoneless = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value);
  const ms = Date.parse(zoneless ? `${value.replace(" ", "T")}Z` : value);
  return Number.isNaN(ms) ? undefined : { ms, dateOnly: false };
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  // The description: "URL must contain a valid hostname and underscores are not allowed".
  return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "" && !url.hostname.includes("_");
}

/** Whether one wire value (form fields and query parameters are always strings) satisfies its schema. */
export function conforms(value: string, schema: FieldSchema): boolean {
  if (schema.enum && !schema.enum.includes(value)) return false;
  if (schema.pattern && !new RegExp(schema.pattern).test(value)) return false;
  if (schema.type === "boolean") return /^(true|false)$/i.test(value);
  if (schema.type === "integer" || schema.type === "number") {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || (schema.type === "integer" && !Number.isInteger(n))) return false;
    if ((schema.minimum !== undefined && n < schema.minimum) || (schema.maximum !== undefined && n > schema.maximum)) return false;
  }
  switch (schema.format) {
    // E.164 numbers and short codes (SMS) and WhatsApp channel addresses (whatsapp:+1…); other
    // channels and alphanumeric senders are out of the emulator's scope.
    case "phone-number":
      return isBusinessNumber(value) || isWhatsApp(value);
    case "uri":
      return isHttpUrl(value);
    case "date-time":
      return parseTwilioDate(value) !== undefined;
    default:
      return true;
  }
}
