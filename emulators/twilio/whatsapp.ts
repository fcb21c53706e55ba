import { isE164 } from "../../src/domain/compliance/e164";
import { twilioError, type TwilioError } from "./errors";

/**
 * WhatsApp as Twilio's Messages API carries it (contract §9): `whatsapp:+E164` addresses on both
 * sides, Content templates (ContentSid + ContentVariables), and the 24-hour customer-service
 * window outside which WhatsApp takes templates only.
 */

const PREFIX = "whatsapp:";

/** A WhatsApp channel address: `whatsapp:` and an E.164 number. */
export const isWhatsApp = (address: string | null | undefined): boolean => !!address && address.startsWith(PREFIX) && isE164(address.slice(PREFIX.length));

/** Whether an inbound message is on WhatsApp: its customer side says so, even malformed (a hostile test may send one). */
export const isWhatsAppInbound = (from: string): boolean => from.startsWith(PREFIX);

/** Twilio's error for free text outside the window, reported in a callback after the send was accepted. */
export const OUTSIDE_WINDOW = 63016;
export const WINDOW_MS = 24 * 60 * 60 * 1000;

/** The templates `npm run dev` knows without configuration; the bridge's dev WHATSAPP_TEMPLATES name these SIDs. */
export const DEFAULT_WHATSAPP_TEMPLATES: Readonly<Record<string, string>> = {
  [`HX${"0".repeat(31)}1`]: "Flight {{1}} is delayed. New departure: {{2}}.",
  [`HX${"0".repeat(31)}2`]: "Vuelo {{1}} retrasado. Nueva salida: {{2}}.",
};

/** A template send, as the emulator records it. */
export interface TemplateContent {
  contentSid: string;
  variables: Record<string, string>;
  /** The template with its placeholders filled in: what the customer sees. */
  body: string;
}

export type WhatsAppCheck = { ok: false; error: TwilioError } | { ok: true; content?: TemplateContent };

const PLACEHOLDER = /\{\{(\w+)\}\}/g;
const badVariables = (why: string): WhatsAppCheck => ({ ok: false, error: twilioError(400, 21656, `The ContentVariables Parameter is invalid: ${why}`) });

function parseJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined; // JSON itself has no undefined, so this means "not JSON"
  }
}

/** ContentVariables as the object of strings it must be, or undefined. */
function parseVariables(json: string): Record<string, string> | undefined {
  const value = parseJson(json);
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  return isObject && Object.values(value).every((v) => typeof v === "string") ? (value as Record<string, string>) : undefined;
}

/**
 * The WhatsApp rules of a create request already valid against the schema: both addresses on one
 * channel, and a ContentSid (WhatsApp only here) that names a known template whose every
 * placeholder ContentVariables fills.
 */
export function checkWhatsAppSend(form: URLSearchParams, templates: Readonly<Record<string, string>>): WhatsAppCheck {
  const whatsapp = isWhatsApp(form.get("To"));
  const from = form.get("From");
  // Without From a Messaging Service picks a sender of the recipient's channel from its pool.
  if (from && isWhatsApp(from) !== whatsapp) return { ok: false, error: twilioError(400, 63007, "Twilio could not find a Channel with the specified From address") };

  const contentSid = form.get("ContentSid");
  const given = form.get("ContentVariables");
  // The description: "`content_sid` parameter must also be provided".
  if (!contentSid) return given ? badVariables("ContentVariables needs a ContentSid") : { ok: true };
  if (!whatsapp) return badVariables("the emulator renders Content templates for WhatsApp sends only");
  if (!Object.hasOwn(templates, contentSid)) return { ok: false, error: twilioError(400, 21655, "The ContentSid is Invalid") };
  const template = templates[contentSid]!;

  const variables = parseVariables(given || "{}");
  if (!variables) return badVariables("must be a JSON object of string values");
  // WhatsApp refuses a template parameter that is empty, so a blank value counts as missing.
  const missing = [...template.matchAll(PLACEHOLDER)].map((p) => p[1]!).find((name) => !Object.hasOwn(variables, name) || variables[name]!.trim() === "");
  if (missing !== undefined) return badVariables(`no value for {{${missing}}}`);
  return { ok: true, content: { contentSid, variables, body: template.replace(PLACEHOLDER, (_, name: string) => variables[name]!) } };
}

/** When each customer last wrote to each WhatsApp sender: free text is allowed for 24 h after. */
export class WhatsAppWindows {
  private lastInbound = new Map<string, number>();

  private static key(customer: string, business: string): string {
    return `${customer} ${business}`;
  }

  /** `null` closes the window (the customer never wrote). */
  set(customer: string, business: string, at: number | null): void {
    const key = WhatsAppWindows.key(customer, business);
    if (at === null) this.lastInbound.delete(key);
    else this.lastInbound.set(key, at);
  }

  isOpen(customer: string, business: string, now: number): boolean {
    const at = this.lastInbound.get(WhatsAppWindows.key(customer, business));
    return at !== undefined && now - at < WINDOW_MS;
  }

  clear(): void {
    this.lastInbound.clear();
  }
}
