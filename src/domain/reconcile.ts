import type { TwilioMessage } from "../adapters/twilio/schemas";
import { asAppError } from "../errors";
import { log } from "../log";
import { isTwilioStatus, VALIDITY_WINDOW_MS } from "./status";
import type { StatusEvent } from "./status-apply";

/** A message row as the reconciler sees it. */
export interface Pending {
  id: number;
  direction: "inbound" | "outbound";
  state: string;
  cxoneMessageId: string | null;
  messageSid: string | null;
  customer: string;
  sender: string | null;
  submittedAt: number | null;
  conversationId: string | null;
  /** When the bridge claimed it. */
  createdAt: number;
  /** The proactive batch that launched it, if any. */
  batchId?: string | null;
}

export interface ReconcileDeps {
  /** Due messages in these states, each one's next check already moved forward with backoff. */
  claim(now: number, states: ("received" | "queued" | "sending" | "submitted")[], limit: number): Promise<Pending[]>;
  recheckAt(id: number, at: number | null): Promise<void>;
  fetchTwilio(sid: string): Promise<TwilioMessage>;
  applyStatus(event: StatusEvent): Promise<string>;
  /** "sent" past Twilio's validity window: no receipt beyond SENT will come. */
  settleSent(p: Pending): Promise<void>;
  /** Of these CXone ids, those the sender's queue has never seen. */
  missingFromQueue(sender: string, ids: string[]): Promise<string[]>;
  /** Claimed in D1 but never queued (and no retry came): a dead letter, FAILED to CXone. */
  lost(p: Pending, reason: string): Promise<void>;
  /** Whether a proactive batch is still launching: its object launches each pending recipient again. */
  batchLaunching(batchId: string): Promise<boolean>;
  /** Whether the conversation is one the bridge opened for a proactive alert. */
  proactive(conversationId: string): Promise<boolean>;
  /** Pushes a thread's pending inbound messages to CXone now; false if the thread lost the message. */
  redeliver(p: Pending): Promise<boolean>;
  flushReports(now: number): Promise<{ sent: number; retried: number; dead: number }>;
  matchOrphans(now: number): Promise<number>;
  dropOldOrphans(before: number): Promise<number>;
  closeIdle(now: number): Promise<number>;
  /** Wakes proactive batches whose object has not reported them finished; how many were pending. */
  wakeBatches(now: number): Promise<number>;
}

export interface ReconcileReport {
  statusChecked: number;
  statusFixed: number;
  settledAsSent: number;
  requeued: number;
  lost: number;
  inboundRetried: number;
  reports: { sent: number; retried: number; dead: number };
  orphansMatched: number;
  orphansDropped: number;
  idleClosed: number;
  batchesPending: number;
  errors: number;
}

const BATCH = 50;
const ORPHAN_TTL_MS = 7 * 24 * 3600_000;
/**
 * A single alert whose launch died between its claim and its queue (the caller was answered 5xx,
 * or nothing) is finished by the caller's retry with the same idempotencyKey, which queues the
 * claimed message: it is not given up as lost before this long. Found by the soak, where the
 * reconciler filed one as lost 15 s after a restart and the caller's retry was then refused.
 */
export const ALERT_RETRY_GRACE_MS = 3600_000;

/** A claimed alert whose queueing is still its launcher's to do: its batch's object, or its caller's retry. */
async function awaitsItsLauncher(deps: ReconcileDeps, p: Pending, now: number): Promise<boolean> {
  if (p.batchId) return deps.batchLaunching(p.batchId);
  return now - p.createdAt < ALERT_RETRY_GRACE_MS && p.conversationId !== null && (await deps.proactive(p.conversationId));
}

/**
 * One reconciliation pass (Cron Trigger and POST /admin/reconcile). Every step reads only what
 * is due through indexed queries and is bounded, so a pass costs what is stuck, not what is stored.
 */
export async function reconcile(deps: ReconcileDeps, opts: { now: number; recheckMs: number }): Promise<ReconcileReport> {
  const { now, recheckMs } = opts;
  const r: ReconcileReport = {
    statusChecked: 0,
    statusFixed: 0,
    settledAsSent: 0,
    requeued: 0,
    lost: 0,
    inboundRetried: 0,
    reports: { sent: 0, retried: 0, dead: 0 },
    orphansMatched: 0,
    orphansDropped: 0,
    idleClosed: 0,
    batchesPending: 0,
    errors: 0,
  };
  const guard = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (err) {
      r.errors += 1;
      log("warn", "reconcile.error", { kind: what, reason: asAppError(err).detail ?? asAppError(err).publicMessage });
    }
  };

  // Sent, but no final status came: ask Twilio (a lost or dropped callback). Only rows sent before
  // the sender objects kept the lifecycle are here; each object now asks about its own (its alarm).
  for (const p of await deps.claim(now, ["submitted"], BATCH)) {
    await guard("status", async () => {
      r.statusChecked += 1;
      const twilio = await deps.fetchTwilio(p.messageSid!);
      if (isTwilioStatus(twilio.status)) {
        const applied = await deps.applyStatus({ sid: p.messageSid!, status: twilio.status, errorCode: twilio.error_code ? String(twilio.error_code) : undefined, at: now });
        if (applied === "final" || applied === "updated") {
          r.statusFixed += 1;
          log("info", "reconcile.fixed", { cxoneMessageId: p.cxoneMessageId, messageSid: p.messageSid, status: twilio.status, kind: "status" });
        }
        if (applied === "requeued") r.requeued += 1;
        if (applied === "final" || applied === "requeued") return;
      }
      if (p.submittedAt !== null && now - p.submittedAt > VALIDITY_WINDOW_MS) {
        await deps.settleSent(p);
        r.settledAsSent += 1;
        log("info", "reconcile.fixed", { cxoneMessageId: p.cxoneMessageId, messageSid: p.messageSid, status: "sent", kind: "validity-window" });
      } else await deps.recheckAt(p.id, now + recheckMs);
    });
  }

  // Claimed but maybe never queued: ask each sender's queue about its stale ids at once.
  const stale = await deps.claim(now, ["queued", "sending"], BATCH);
  const bySender = new Map<string, Pending[]>();
  for (const p of stale) if (p.sender && p.cxoneMessageId) bySender.set(p.sender, [...(bySender.get(p.sender) ?? []), p]);
  for (const [sender, rows] of bySender) {
    await guard("queue", async () => {
      const missing = new Set(await deps.missingFromQueue(sender, rows.map((p) => p.cxoneMessageId!)));
      for (const p of rows) {
        // A batch recipient whose launch died between the claim and the queue (a restart mid-pass)
        // is its batch's to launch again, however long the batch takes to wake: not lost yet.
        if (missing.has(p.cxoneMessageId!) && !(await awaitsItsLauncher(deps, p, now))) {
          await deps.lost(p, "accepted but never queued, and CXone did not send it again");
          r.lost += 1;
        } else await deps.recheckAt(p.id, now + recheckMs);
      }
    });
  }

  // Inbound messages not yet in CXone: their thread tries again now.
  for (const p of await deps.claim(now, ["received"], BATCH)) {
    await guard("inbound", async () => {
      if (await deps.redeliver(p)) r.inboundRetried += 1;
      else r.lost += 1;
      await deps.recheckAt(p.id, now + recheckMs);
    });
  }

  await guard("reports", async () => {
    r.reports = await deps.flushReports(now);
  });
  await guard("orphans", async () => {
    r.orphansMatched = await deps.matchOrphans(now);
    r.orphansDropped = await deps.dropOldOrphans(now - ORPHAN_TTL_MS);
  });
  await guard("idle", async () => {
    r.idleClosed = await deps.closeIdle(now);
  });
  await guard("batches", async () => {
    r.batchesPending = await deps.wakeBatches(now);
  });
  // Operators read `wrangler tail`: a quiet tick says nothing at info, a busy one its counts as fields.
  const { reports, ...rest } = r;
  const counts = Object.fromEntries(Object.entries({ ...rest, reportsSent: reports.sent, reportsRetried: reports.retried, reportsDead: reports.dead }).filter(([, n]) => n > 0));
  log(Object.keys(counts).length > 0 ? "info" : "debug", "reconcile.done", { counts });
  return r;
}
