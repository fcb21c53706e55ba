import type { OutboundItem } from "../adapters/cxone/reply-item";
import type { ProactiveAlert } from "./cxone";
import type { Ready } from "../config";
import { log } from "../log";
import { nextAllowed, parseQuietHours } from "./compliance/quiet-hours";
import { timeZoneOf } from "./compliance/time-zones";
import type { Accepted } from "./outbound/accept";
import { resolveSender } from "./outbound/job";
import { onChannel, type Channel } from "./compliance/e164";
import { insideWindow, resolveTemplate, templateText, type TemplateRequest, type TemplateSend } from "./whatsapp";

export interface ProactiveRequest {
  key: string;
  campaignId: string;
  /** The customer's number (E.164); on WhatsApp the message goes to whatsapp:+ and it. */
  to: string;
  channel?: Channel;
  /** Free text, or (WhatsApp only) a template. */
  text?: string;
  template?: TemplateRequest;
  from?: string;
  customFields?: Record<string, string | number | boolean>;
  batchId?: string;
}

export interface ProactiveAnswer {
  conversationId: string | null;
  messageId: string | null;
  status: "queued" | "deferred" | "refused" | "failed";
  reason?: string;
  /** When the SMS may go (deferred by quiet hours), ISO 8601. */
  sendAt?: string;
}

export interface ProactiveDeps {
  firstAnswer(key: string): Promise<ProactiveAnswer | undefined>;
  isSuppressed(phone: string, businesses: (string | null | undefined)[]): Promise<boolean>;
  /** The alert's conversation in CXone, with its text in it (idempotent on the caller's key). */
  openProactive(alert: ProactiveAlert): Promise<{ conversationId: string; messageId: string }>;
  /** Also what threads the customer's reply here: their thread adopts the newest proactive conversation. */
  recordConversation(row: { id: string; customer: string; business: string; campaignId: string; idleCloseAt: number }): Promise<void>;
  /** Into the sender's queue, exactly once (the outbound path's acceptOutbound). */
  accept(item: OutboundItem, extra: { notBefore?: number; batchId?: string; proactive: true; template?: TemplateSend }): Promise<Accepted>;
  /** When the customer last wrote to this WhatsApp sender (its object keeps the window). */
  lastInbound(sender: string, customer: string): Promise<number | null>;
  /** Stores the answer unless one is stored already; returns the stored one. */
  remember(request: ProactiveRequest, answer: ProactiveAnswer): Promise<ProactiveAnswer>;
}

/** Where the recipient is, by their number; the configured default when the number does not say. */
export function sendTime(config: Ready, to: string, now: number): number {
  const zone = timeZoneOf(to) ?? config.QUIET_HOURS_DEFAULT_TZ ?? "America/New_York";
  return nextAllowed(new Date(now), zone, parseQuietHours(config.QUIET_HOURS)).getTime();
}

/**
 * Starts a business-initiated conversation (contract §3–4): refuse a suppressed recipient; create the
 * CXone conversation with `proactive: true` and the text in it (both idempotent on the caller's
 * key); bind the customer's thread to it so a reply lands there; queue the SMS through the
 * sender's rate bucket, deferred past quiet hours. Every step is idempotent, so a repeat or a
 * crash midway ends in one conversation and one SMS; the first answer is the answer.
 */
export async function launchProactive(deps: ProactiveDeps, config: Ready, req: ProactiveRequest, now = Date.now()): Promise<ProactiveAnswer> {
  const first = await deps.firstAnswer(req.key);
  if (first) return first;
  const channel = req.channel ?? "sms";
  const to = onChannel(req.to, channel);
  const sender = resolveSender(config, req.from, undefined, channel);
  const refused = (reason: string) => deps.remember(req, { conversationId: null, messageId: null, status: "refused", reason });
  if (!sender) return refused("no_sender");
  // The number the customer will see, or the Messaging Service until it has picked one (the
  // sender rebinds the conversation to that number once Twilio says which).
  const business = sender.from ?? sender.key;
  if (await deps.isSuppressed(req.to, [business, sender.key])) return refused("opted_out");
  const sendAt = sendTime(config, req.to, now);
  // contract §9: free text on WhatsApp only while the customer's window is open — still open when
  // quiet hours let it go, or the customer would be shown a conversation whose message never comes.
  if (channel === "whatsapp" && !req.template && !insideWindow(await deps.lastInbound(sender.key, to), sendAt)) return refused("outside_whatsapp_window");
  const template = req.template ? resolveTemplate(config, req.template) : undefined;
  const text = template ? templateText(template) : req.text!;
  const opened = await deps.openProactive({
    key: req.key,
    campaignId: req.campaignId,
    to,
    text,
    business,
    customFields: req.customFields,
    ...(req.batchId ? { batchId: req.batchId } : {}),
    ...(req.template ? { template: { name: req.template.name, ...(req.template.language ? { language: req.template.language } : {}), parameters: req.template.parameters.map((p) => p.text) } } : {}),
  });
  await deps.recordConversation({
    id: opened.conversationId,
    customer: to,
    business,
    campaignId: req.campaignId,
    idleCloseAt: sendAt + config.PROACTIVE_IDLE_CLOSE_HOURS * 3600_000,
  });
  const deferred = sendAt > now;
  const accepted = await deps.accept(
    { id: opened.messageId, conversationId: opened.conversationId, to, body: text, from: req.from ?? null, createdTime: new Date(now).toISOString() },
    { proactive: true, ...(deferred ? { notBefore: sendAt } : {}), ...(req.batchId ? { batchId: req.batchId } : {}), ...(template ? { template } : {}) },
  );
  // A repeat after a crash midway can find the message already judged: refused, or a dead letter
  // (the reconciler gave up on it before the repeat came) — say so, never "queued".
  const status = accepted.state === "failed" ? "refused" : accepted.state === "dead" ? "failed" : deferred ? "deferred" : "queued";
  log("info", "proactive.accepted", { conversationId: opened.conversationId, cxoneMessageId: opened.messageId, campaignId: req.campaignId, batchId: req.batchId ?? null, status, to: req.to });
  return deps.remember(req, {
    conversationId: opened.conversationId,
    messageId: opened.messageId,
    status,
    ...(status === "refused" ? { reason: "opted_out" } : status === "failed" ? { reason: "dead_letter" } : {}),
    ...(deferred ? { sendAt: new Date(sendAt).toISOString() } : {}),
  });
}
