import type { Ready } from "../../config";
import type { OutboundItem } from "../../adapters/cxone/reply-item";
import type { NewOutbound } from "../../adapters/db/outbound";
import { log } from "../../log";
import { createdInstant, jobFor, resolveSender, type OutboundJob } from "./job";
import { countSegments } from "../compliance/segments";

/** What accepting an agent reply needs from the outside world. */
export interface AcceptDeps {
  businessNumberOf(conversationId: string): Promise<string | null | undefined>;
  /** Inserts the message row (created at `now`); false when the CXone id is already known. */
  claim(row: NewOutbound, now: number): Promise<boolean>;
  existing(cxoneMessageId: string): Promise<{ state: string; sender: string | null; createdAt: number; cxoneCreatedAt: string | null } | undefined>;
  isSuppressed(phone: string, businesses: (string | null | undefined)[]): Promise<boolean>;
  /** Fails a message before it is sent and tells CXone (FAILED with the code). */
  refuse(cxoneMessageId: string, code: string, message: string): Promise<void>;
  enqueue(sender: string, job: OutboundJob): Promise<void>;
}

export interface Accepted {
  duplicate: boolean;
  state: "queued" | "failed" | string;
  /**
   * The instant the reply's conversation is ordered by (its createdTime, else when the bridge first
   * took it); a repeat's answer is the first one's. DFO tells CXone this in its answer.
   */
  createdAt: number;
}

/**
 * Takes an agent reply from a push or the poll into the send queue, exactly once: the CXone id
 * claims a unique row first, and only the claimer queues it. A duplicate whose first copy never
 * reached its queue (a crash between the two steps) is queued again — the queue ignores ids it has.
 */
export async function acceptOutbound(
  deps: AcceptDeps,
  config: Ready,
  item: OutboundItem,
  source: "push" | "poll" | "proactive",
  extra: Pick<OutboundJob, "notBefore" | "batchId" | "proactive"> = {},
): Promise<Accepted> {
  const now = Date.now();
  const orderedAt = createdInstant(item.createdTime) ?? now;
  const business = await deps.businessNumberOf(item.conversationId);
  const sender = resolveSender(config, item.from, business);
  const { segments, encoding } = countSegments(item.body);
  const claimed = await deps.claim({
    cxoneMessageId: item.id,
    conversationId: item.conversationId,
    customer: item.to,
    sender: sender?.key ?? null,
    segments,
    encoding,
    cxoneCreatedAt: item.createdTime,
    batchId: extra.batchId,
    sendAfter: extra.notBefore,
    checkAt: Math.max(now, extra.notBefore ?? 0) + config.RECONCILE_AFTER_MINUTES * 60_000,
  }, now);
  if (!claimed) {
    const existing = await deps.existing(item.id);
    log("info", "outbound.duplicate", { cxoneMessageId: item.id, conversationId: item.conversationId, kind: source, status: existing?.state });
    const createdAt = existing ? (createdInstant(existing.cxoneCreatedAt ?? undefined) ?? existing.createdAt) : orderedAt;
    if (existing?.state !== "queued") return { duplicate: true, state: existing?.state ?? "queued", createdAt };
    // Still "queued": the first copy's handler may have died before queueing or refusing it, so
    // this copy finishes the job (the queue ignores ids it has; the sender checks opt-outs again).
    const key = existing.sender ?? sender?.key;
    if (!sender || !key) return { duplicate: true, state: await refuseNoSender(deps, item), createdAt };
    await deps.enqueue(key, jobFor(item, { ...sender, key }, { ...extra, business: business ?? undefined }));
    return { duplicate: true, state: "queued", createdAt };
  }
  if (!sender) return { duplicate: false, state: await refuseNoSender(deps, item), createdAt: orderedAt };
  if (await deps.isSuppressed(item.to, [business, sender.from, sender.messagingServiceSid])) {
    await deps.refuse(item.id, "OPTED_OUT", "the recipient opted out");
    log("info", "outbound.refused", { cxoneMessageId: item.id, conversationId: item.conversationId, reason: "OPTED_OUT", to: item.to });
    return { duplicate: false, state: "failed", createdAt: orderedAt };
  }
  await deps.enqueue(sender.key, jobFor(item, sender, { ...extra, business: business ?? undefined }));
  log("info", "outbound.accepted", { cxoneMessageId: item.id, conversationId: item.conversationId, kind: source, sender: sender.key, segments, encoding, to: item.to });
  return { duplicate: false, state: "queued", createdAt: orderedAt };
}

async function refuseNoSender(deps: AcceptDeps, item: OutboundItem): Promise<"failed"> {
  await deps.refuse(item.id, "NO_SENDER", "no sender: the message has no from, the conversation no business number, and TWILIO_FROM_NUMBER is not set");
  log("warn", "outbound.refused", { cxoneMessageId: item.id, conversationId: item.conversationId, reason: "NO_SENDER" });
  return "failed";
}
