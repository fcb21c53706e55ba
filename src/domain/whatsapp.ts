import type { Config } from "../config";
import { AppError } from "../errors";

/**
 * WhatsApp's rules (contract §9): free text only within 24 hours of the customer's last message to
 * that sender; outside it only a pre-approved template, sent by its Twilio Content SID.
 */
export const WHATSAPP_WINDOW_MS = 24 * 3600_000;

/** The code CXone hears for free text outside the window, whether the bridge or Twilio (63016) caught it. */
export const OUTSIDE_WINDOW = "OUTSIDE_WHATSAPP_WINDOW";
export const TWILIO_OUTSIDE_WINDOW = "63016";

/** Whether free text may go at `now` to a customer whose last message to the sender was at `lastInbound`. */
export function insideWindow(lastInbound: number | null | undefined, now: number): boolean {
  return lastInbound !== null && lastInbound !== undefined && now < lastInbound + WHATSAPP_WINDOW_MS;
}

/** CXone's code for a Twilio error: 63016 is the window, said the way the bridge says it. */
export function cxoneErrorCode(code: string | undefined): string | undefined {
  return code === TWILIO_OUTSIDE_WINDOW ? OUTSIDE_WINDOW : code;
}

export interface TemplateRequest {
  name: string;
  language?: string;
  parameters: { type: "text"; text: string }[];
}

/** A template as it is sent: Twilio's Content SID and variables, and what the agent is shown. */
export interface TemplateSend {
  name: string;
  language?: string;
  contentSid: string;
  /** Twilio's ContentVariables: {"1": …, "2": …} from the parameters in order. */
  variables: Record<string, string>;
}

const keyOf = (t: { name: string; language?: string }) => (t.language ? `${t.name}:${t.language}` : t.name);

/**
 * The Content SID of a template (WHATSAPP_TEMPLATES), or a 400 naming it. A language asks for that
 * language's entry exactly: falling back to another language's text would send words the
 * customer may not read.
 */
export function resolveTemplate(config: Pick<Config, "whatsappTemplates">, request: TemplateRequest): TemplateSend {
  const contentSid = config.whatsappTemplates[keyOf(request)];
  if (!contentSid) {
    throw new AppError(400, "unknown_template", `no WhatsApp template "${keyOf(request)}" in WHATSAPP_TEMPLATES`);
  }
  return {
    name: request.name,
    ...(request.language ? { language: request.language } : {}),
    contentSid,
    variables: Object.fromEntries(request.parameters.map((p, i) => [String(i + 1), p.text])),
  };
}

/** What the agent sees in CXone for a template: its name, language and parameters. */
export function templateText(template: Pick<TemplateSend, "name" | "language" | "variables">): string {
  const params = Object.entries(template.variables).map(([k, v]) => `{{${k}}} ${v}`);
  return `[WhatsApp template ${keyOf(template)}]${params.length > 0 ? ` ${params.join(" · ")}` : ""}`;
}
