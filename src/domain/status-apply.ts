import { log } from "../log";
import { report } from "./receipts";
import { advances, FINAL, isTwilioStatus, predecessors, receiptFor, REQUEUE_ONCE, type TwilioStatus } from "./status";
import type { Receipt } from "./cxone";
import { cxoneErrorCode } from "./whatsapp";

export interface StatusEvent {
  sid: string;
  status: TwilioStatus;
  errorCode?: string;
  at: number;
}

/** The outbound message a status is about, as D1 knows it. */
export interface Tracked {
  cxoneMessageId: string;
  sid: string;
  sender: string | null;
  customer: string;
  twilioStatus: string | null;
  /** Its final status is applied in full (receipt queued): nothing left to do. */
  settled: boolean;
  carrierRetries: number;
  conversationId: string | null;
}

export interface StatusDeps {
  find(sid: string): Promise<Tracked | undefined>;
  record(event: StatusEvent, matched: boolean): Promise<void>;
  advance(sid: string, next: TwilioStatus, from: TwilioStatus[], errorCode?: string): Promise<boolean>;
  settle(sid: string): Promise<void>;
  /** Queues a report durably, sending nothing: every change a status makes is kept before the first network call. */
  receipt(cxoneMessageId: string, body: Receipt): Promise<void>;
  /** Sends the message's queued reports, in order. */
  flush(cxoneMessageId: string): Promise<void>;
  suppress(tracked: Tracked): Promise<void>;
  /** One more try through the sender's bucket after `delayMs`; false when it cannot be done. */
  requeue(tracked: Tracked, delayMs: number): Promise<boolean>;
  /** The sender may forget the body now. */
  finalize(tracked: Tracked): Promise<void>;
}

export type Applied = "orphan" | "ignored" | "updated" | "final" | "requeued" | "read";

/** How long a message waits before its one retry after a carrier error. */
export const REQUEUE_DELAY_MS = 60_000;

/**
 * Applies one Twilio status to its message: forward only, finals once. A final status becomes
 * the CXone receipt (or, for 30008/30022, one more try through the rate bucket); 21610 puts the
 * number on the suppression list. A status for a SID the bridge does not know (yet) is kept as
 * an orphan for the reconciler: the send may still be committing.
 */
export async function applyStatus(deps: StatusDeps, event: StatusEvent, source: Source): Promise<Applied> {
  const tracked = await deps.find(event.sid);
  if (!tracked) {
    if (source === "callback") await deps.record(event, false);
    log("info", "status.orphan", { messageSid: event.sid, status: event.status });
    return "orphan";
  }
  if (source === "callback") await deps.record(event, true);
  const applied = event.status === "read" ? await applyRead(deps, tracked, event, source) : await applyTracked(deps, tracked, event, source);
  // Sent only now: a read whose delivery it finished once waited for CXone to take that DELIVERED
  // before queueing its READ, and a restart in that wait lost the READ (found by the soak).
  if (applied === "final" || applied === "read") await deps.flush(tracked.cxoneMessageId);
  return applied;
}

/**
 * contract §9: the customer read it (WhatsApp). Read implies delivered, and Twilio promises no
 * order (nor does a crash between a status and its receipt), so an unfinished delivery is
 * finished first — also one another worker is finishing right now (its receipt is queued once
 * either way): CXone hears DELIVERED, then READ — never READ alone or first. The READ receipt
 * is queued again on every read (the outbox keeps one per status), so a read whose receipt was
 * cut short by a crash still gets it.
 */
async function applyRead(deps: StatusDeps, first: Tracked, event: StatusEvent, source: Source): Promise<Applied> {
  let tracked = first;
  // Twice at most: a delivered callback racing this one may move the message first (this one's
  // move then loses, seen as "already sent"); the second pass finds it delivered but unsettled
  // and finishes it like any unfinished final status (found by the soak).
  for (let pass = 0; pass < 2 && !tracked.settled && !failedFinal(tracked.twilioStatus); pass++) {
    await applyTracked(deps, tracked, { ...event, status: "delivered" }, source);
    tracked = (await deps.find(event.sid)) ?? tracked;
  }
  const ids = { messageSid: event.sid, cxoneMessageId: tracked.cxoneMessageId, conversationId: tracked.conversationId };
  if (!tracked.settled || (tracked.twilioStatus !== "delivered" && tracked.twilioStatus !== "read")) {
    log("info", "status.ignored", { ...ids, status: event.status, reason: `already ${tracked.twilioStatus}`, kind: source });
    return "ignored";
  }
  if (tracked.twilioStatus === "delivered") await deps.advance(event.sid, "read", ["delivered"]);
  await deps.receipt(tracked.cxoneMessageId, report("READ", new Date(event.at), { providerMessageId: event.sid }));
  log("info", "status.read", { ...ids, status: event.status, kind: source });
  return "read";
}

type Source = "callback" | "reconcile" | "orphan";
/** A final status other than delivered: nothing is read after it. */
const failedFinal = (status: string | null) => isTwilioStatus(status) && FINAL.has(status) && status !== "delivered";

async function applyTracked(deps: StatusDeps, tracked: Tracked, event: StatusEvent, source: Source): Promise<Applied> {
  const ids = { messageSid: event.sid, cxoneMessageId: tracked.cxoneMessageId, conversationId: tracked.conversationId };
  // At this final status (or read, which is past delivered) but not settled: whoever moved it there
  // died (or is still busy) before the receipt; the same status again finishes the job, each step
  // being idempotent.
  const reached = tracked.twilioStatus === event.status || (event.status === "delivered" && tracked.twilioStatus === "read");
  const unfinished = FINAL.has(event.status) && reached && !tracked.settled;
  if (!unfinished && (!advances(tracked.twilioStatus, event.status) || !(await deps.advance(event.sid, event.status, predecessors(event.status), event.errorCode)))) {
    log("info", "status.ignored", { ...ids, status: event.status, reason: `already ${tracked.twilioStatus}`, kind: source });
    return "ignored";
  }
  if (!FINAL.has(event.status)) {
    log("info", "status.updated", { ...ids, status: event.status, kind: source });
    return "updated";
  }
  if (event.errorCode === "21610") await deps.suppress(tracked);
  const failed = event.status === "undelivered" || event.status === "failed";
  if (failed && event.errorCode && REQUEUE_ONCE.has(event.errorCode) && tracked.carrierRetries === 0) {
    if (await deps.requeue(tracked, REQUEUE_DELAY_MS)) {
      log("warn", "status.requeued", { ...ids, status: event.status, errorCode: event.errorCode, delayMs: REQUEUE_DELAY_MS });
      return "requeued";
    }
  }
  const cxoneStatus = receiptFor(event.status)!;
  await deps.receipt(
    tracked.cxoneMessageId,
    report(cxoneStatus, new Date(event.at), { providerMessageId: event.sid, errorCode: cxoneErrorCode(event.errorCode), errorMessage: event.errorCode ? `Twilio error ${event.errorCode}` : undefined }),
  );
  await deps.settle(event.sid);
  await deps.finalize(tracked);
  log("info", "status.final", { ...ids, status: event.status, errorCode: event.errorCode ?? null, kind: source });
  return "final";
}
