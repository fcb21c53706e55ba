import type { OutboundItem } from "../adapters/cxone/reply-item";
import type { ProactiveAlert } from "./cxone";
import type { Ready } from "../config";
import { log } from "../log";
import { nextAllowed, parseQuietHours } from "./compliance/quiet-hours";
import { timeZoneOf } from "./compliance/time-zones";
import type { Accepted } from "./outbound/accept";
import { resolveSender } from "./outbound/job";

export interface ProactiveRequest {
  key: string;
  campaignId: string;
  to: string;
  text: string;
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
  accept(item: OutboundItem, extra: { notBefore?: number; batchId?: string; proactive: true }): Promise<Accepted>;
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
  const sender = resolveSender(config, req.from, undefined);
  if (!sender) return deps.remember(req, { conversationId: null, messageId: null, status: "refused", reason: "no_sender" });
  // The number the customer will see, or the Messaging Service until it has picked one (the
  // sender rebinds the conversation to that number once Twilio says which).
  const business = sender.from ?? sender.key;
  if (await deps.isSuppressed(req.to, [business, sender.key])) {
    return deps.remember(req, { conversationId: null, messageId: null, status: "refused", reason: "opted_out" });
  }
  const sendAt = sendTime(config, req.to, now);
  const opened = await deps.openProactive({ key: req.key, campaignId: req.campaignId, to: req.to, text: req.text, business, customFields: req.customFields, ...(req.batchId ? { batchId: req.batchId } : {}) });
  await deps.recordConversation({
    id: opened.conversationId,
    customer: req.to,
    business,
    campaignId: req.campaignId,
    idleCloseAt: sendAt + config.PROACTIVE_IDLE_CLOSE_HOURS * 3600_000,
  });
  const deferred = sendAt > now;
  const accepted = await deps.accept(
    { id: opened.messageId, conversationId: opened.conversationId, to: req.to, body: req.text, from: req.from ?? null, createdTime: new Date(now).toISOString() },
    { proactive: true, ...(deferred ? { notBefore: sendAt } : {}), ...(req.batchId ? { batchId: req.batchId } : {}) },
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
