import { readConfig, requireConfig } from "../config";
import { twilioClient } from "../adapters/twilio/client";
import type { OutboundJob } from "../domain/outbound/job";
import { objectRate } from "../domain/outbound/shards";
import type { StatusEvent } from "../domain/status-apply";
import { SerialRunner } from "./runner";
import { SenderLifecycle, SYNC_DELAY_MS } from "./sender-lifecycle";
import { insertJob, QUEUE_SCHEMA, SEND_PATH, setOrderWindow } from "./sender-queue";
import { SenderRate } from "./sender-rate";
import * as views from "./sender-views";
import { nextReportAt, pruneReports, reopenReport, REPORTS_TABLE } from "./sender-reports";
import { SendWork } from "./sender-send";
import { checkStuck, EARLY_TABLE, nextCheckAt, pruneEarly, settleAsSent, takeStatus } from "./sender-status";
import { closeDueThreads, IDLE_TABLE, nextIdleAt, watchIdle } from "./sender-idle";
import { SqliteObject } from "./sqlite-object";
import { hasDirty } from "./storage";
import * as windows from "./whatsapp-window";

/** Settled rows pruned per pass (retention), so a pass stays short. */
const PRUNE_CHUNK = 500;
/** A sent message's body is dropped this long after sending even if no final status came. */
const BODY_RETENTION_MS = 24 * 3600_000;
/** A drain hands control back to a fresh alarm this often, so no single invocation runs for ages. */
const CHUNK_MS = 60_000;
/** If the object dies mid-drain, this alarm brings it back. */
const WATCHDOG_MS = 30_000;
const SYNC_RETRY_MS = 5_000;
/**
 * Sends in flight at once per sender, whatever its rate allows: Twilio refuses an account's
 * concurrent requests beyond about 100 (429), and each open request holds a connection (the drain
 * benchmark's workerd, unbounded, ran out of file descriptors and died).
 */
const MAX_IN_FLIGHT = 32;

export interface SenderStats {
  sender: string | null;
  rate: number;
  queued: number;
  sending: number;
  done: number;
  failed: number;
  dead: number;
}

/**
 * One per sender (a number or a Messaging Service): its durable send queue and its rate bucket.
 * The alarm drains the queue: the oldest message whose conversation has nothing earlier pending
 * or in flight goes next, when the bucket has a slot for all its segments. Each conversation has
 * at most one send in flight, so Twilio receives its messages in CXone's createdTime order.
 */
export class SenderDO extends SqliteObject {
  private readonly runner = new SerialRunner(() => this.pass());
  private readonly work: SendWork;
  private readonly lifecycle: SenderLifecycle;
  /** Sends in flight in this instance; an `inflight` row not in here was orphaned by a restart. */
  private readonly sending = new Map<string, Promise<void>>();
  private interrupt: (() => void) | undefined;
  private watchdogUntil = 0;
  private readonly rate: SenderRate;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, { ...QUEUE_SCHEMA, tables: QUEUE_SCHEMA.tables + windows.WINDOW_TABLE + REPORTS_TABLE + EARLY_TABLE + IDLE_TABLE });
    // Once per start, after the schema (blocks run in order): the window is part of each head's due
    // time, and a changed setting moves them all. readConfig: a setting missing elsewhere must not stop the object.
    void ctx.blockConcurrencyWhile(async () => {
      setOrderWindow(this.sql, readConfig(env).config.OUTBOUND_ORDER_WINDOW_MS);
      // Rows sent before this object kept the lifecycle: those whose body went at their final
      // status are settled (D1 had their receipts); a late repeat of it must not report again.
      if (!this.meta.get("lifecycle")) {
        this.sql.exec("UPDATE queue SET settled = 1 WHERE state = 'done' AND payload IS NULL");
        this.meta.set("lifecycle", "1");
      }
    });
    this.lifecycle = new SenderLifecycle(this.sql, this.env, () => this.clock.now(), () => this.meta.get("sender"), (id, delayMs, sid) => this.requeue(id, delayMs, sid));
    this.rate = new SenderRate(this.sql, this.env, this.meta);
    this.work = new SendWork(this.sql, this.env, (at) => this.rate.holdUntil(at), this.lifecycle, () => this.clock.now());
  }

  /** A WhatsApp customer wrote to this sender at `at`: free text to them may go for 24 hours (contract §9). */
  async openWindow(customer: string, at: number): Promise<void> {
    windows.openWindow(this.sql, customer, at);
  }

  /** When the customer last wrote to this WhatsApp sender (null: never, or so long ago it is forgotten). */
  async lastInbound(customer: string): Promise<number | null> {
    return windows.lastInbound(this.sql, customer);
  }

  /** Queues a send; the same CXone message id twice is queued once. */
  async enqueue(sender: string, job: OutboundJob): Promise<{ queued: boolean }> {
    return { queued: (await this.enqueueMany(sender, [job])).queued > 0 };
  }

  /** Queues several sends in one call (a polled page, a batch's group); each id once, ever. */
  async enqueueMany(sender: string, jobs: OutboundJob[]): Promise<{ queued: number }> {
    if (!this.meta.get("sender")) this.meta.set("sender", sender);
    const now = this.clock.now();
    let queued = 0;
    let due = Infinity;
    for (const job of jobs) {
      if (!insertJob(this.sql, job, now)) continue;
      // An alert's thread is this sender's to close if nobody answers (contract §3).
      if (job.proactive) watchIdle(this.sql, job.conversationId, Math.max(job.notBefore ?? now, now) + requireConfig(this.env).PROACTIVE_IDLE_CLOSE_HOURS * 3600_000);
      queued += 1;
      due = Math.min(due, Math.max(job.notBefore ?? now, now + this.orderWindow()));
    }
    if (queued === 0) return { queued: 0 };
    this.interrupt?.();
    await this.clock.soon(due);
    return { queued };
  }

  /**
   * A Twilio status for message `id`, routed here by the keys in its StatusCallback URL (or by
   * D1's mapping): applied by this object, which holds the message's lifecycle (contract §3).
   */
  async status(id: string, event: StatusEvent, source: "callback" | "reconcile" | "orphan" = "callback"): Promise<string> {
    // D1's copy and any report that fails (or hangs) are the next pass's: a wake, not a timer (a
    // timer dies with the object; the alarm does not). Armed before as well as after: a restart
    // while CXone takes a report left an idle sender nothing to wake it but pruning, days away.
    await this.clock.soon(Date.now() + SYNC_DELAY_MS);
    const applied = await takeStatus(this.lifecycle, id, event, source);
    await this.clock.soon(Date.now() + SYNC_DELAY_MS);
    return applied;
  }

  /** "Sent" is the last word (Twilio's validity window has passed): the reconciler's, for messages sent before this object kept the lifecycle. */
  async settleAsSent(id: string): Promise<void> {
    settleAsSent(this.sql, id);
    await this.clock.soon(Date.now() + SYNC_DELAY_MS);
  }

  /** An operator's replay of a dead report; false when this object has no such dead report. */
  async retryReport(id: string, status: string): Promise<{ reopened: boolean; sent: number }> {
    if (!reopenReport(this.sql, id, status, Date.now())) return { reopened: false, sent: 0 };
    const { sent } = await this.lifecycle.flush({ messages: [id] });
    if (sent === 0) await this.clock.soon(Date.now() + 1_000);
    return { reopened: true, sent };
  }

  override async alarm(): Promise<void> {
    await this.alarmSafely("sender", () => this.runner.run());
  }

  /** Runs the drain now and reports (operators, the reconciler and tests). */
  async drain(): Promise<SenderStats> {
    await this.runner.run();
    return this.stats();
  }

  async stats(): Promise<SenderStats> {
    const counts = views.countsByState(this.sql);
    const sender = this.meta.get("sender");
    return {
      sender,
      rate: sender ? objectRate(requireConfig(this.env), sender) : 0,
      queued: counts.queued ?? 0,
      sending: (counts.inflight ?? 0) + (counts.unknown ?? 0),
      done: counts.done ?? 0,
      failed: counts.failed ?? 0,
      dead: counts.dead ?? 0,
    };
  }

  /** One message's send record, its status history and its reports to CXone (admin). */
  async inspect(id: string) {
    return views.inspect(this.sql, id);
  }

  /** When the latest accepted messages were handed to Twilio, oldest first (throughput checks, admin). */
  async dispatchLog(limit = 2_000) {
    return views.dispatchLog(this.sql, limit);
  }

  /** Of these ids, the ones this queue has never seen (the reconciler's question). */
  async missing(ids: string[]): Promise<string[]> {
    return views.unknownIds(this.sql, ids);
  }

  /**
   * One more try for a sent message after a carrier error (30008/30022), through the bucket.
   * True also when the send `sid` failed in was requeued already (a repeated callback, or a
   * handler that died before recording it), so that no FAILED receipt follows a retry.
   */
  async requeue(id: string, delayMs: number, sid: string): Promise<boolean> {
    const at = this.clock.now() + delayMs;
    const cursor = this.sql.exec(
      "UPDATE queue SET state = 'queued', not_before = ?, ready_at = NULL, sid = NULL, twilio_status = NULL, check_at = NULL, carrier_retries = carrier_retries + 1, version = version + 1 WHERE id = ? AND sid = ? AND state = 'done' AND payload IS NOT NULL",
      at,
      id,
      sid,
    );
    if (cursor.rowsWritten === 0) {
      const row = this.sql.exec<{ sid: string | null }>("SELECT sid FROM queue WHERE id = ?", id).toArray()[0];
      return row !== undefined && row.sid !== sid;
    }
    await this.clock.soon(at);
    return true;
  }

  /** The message has its final status: its body is no longer needed. */
  async finalize(id: string): Promise<void> {
    this.sql.exec("UPDATE queue SET payload = NULL WHERE id = ? AND state = 'done'", id);
  }

  /** Puts a dead letter back in the queue. */
  async retry(id: string): Promise<boolean> {
    const cursor = this.sql.exec(
      "UPDATE queue SET state = 'queued', attempts = 0, not_before = ?, ready_at = NULL, last_error = NULL, version = version + 1 WHERE id = ? AND state = 'dead' AND payload IS NOT NULL",
      this.clock.now(),
      id,
    );
    if (cursor.rowsWritten === 0) return false;
    await this.clock.soon(this.clock.now());
    return true;
  }

  private retentionMs(): number {
    return requireConfig(this.env).RETENTION_DAYS * 86_400_000;
  }

  private orderWindow(): number {
    return requireConfig(this.env).OUTBOUND_ORDER_WINDOW_MS;
  }

  private async pass(): Promise<void> {
    const config = requireConfig(this.env);
    const started = Date.now();
    const twilio = twilioClient(config);
    this.orphansToUnknown();
    await checkStuck(this.lifecycle, twilio, config.RECONCILE_AFTER_MINUTES * 60_000);
    await closeDueThreads(this.sql, this.lifecycle.idle(), this.clock.now());
    await this.lifecycle.flush({ now: this.clock.now() });
    // When the head waits for a rate slot, the exact time it may go.
    let slot: number | undefined;
    let syncedAt = Date.now();
    for (;;) {
      await this.keepAlive();
      // A long drain writes D1's copy as it goes, a second's changes at a time (chained, awaited at the end).
      if (Date.now() - syncedAt >= SYNC_DELAY_MS) {
        syncedAt = Date.now();
        void this.lifecycle.sync();
      }
      await this.work.resolveUnknown(twilio, this.clock.now(), this.sending);
      const now = this.clock.now();
      const head = this.sending.size < MAX_IN_FLIGHT ? this.work.head(now) : undefined;
      if (!head) {
        if (this.sending.size === 0) break;
        // A conversation's next message waits for its predecessor's answer.
        await this.pause(Promise.race(this.sending.values()));
        continue;
      }
      if (head.ready_at === null && (await this.work.refuseIfBlocked(head))) continue;
      const readyAt = this.rate.leaveAt(head, now);
      if (readyAt > now) {
        // Short waits are slept here (timer precision keeps the rate); long ones go to the alarm.
        if (readyAt - now > config.SENDER_INLINE_WAIT_MS) {
          slot = readyAt;
          break;
        }
        await this.pause(new Promise((resolve) => setTimeout(resolve, readyAt - now)));
        continue;
      }
      const answered = this.rate.sent(now, head.cost);
      const send = this.work.dispatch(head, now, twilio, answered).finally(() => {
        // Answered already unless the send never reached Twilio's answer (a throw before it).
        answered(Date.now());
        this.sending.delete(head.id);
        this.interrupt?.();
      });
      this.sending.set(head.id, send);
      if (Date.now() - started > CHUNK_MS) break;
    }
    await Promise.allSettled([...this.sending.values()]);
    const synced = await this.lifecycle.sync();
    // The object's clock, as nextWake's: on two clocks a row due by one and kept by the other re-arms
    // the alarm for the same moment forever, and the queue behind it never moves.
    const now = this.clock.now();
    this.sql.exec(SEND_PATH.dropOldBodies, now - BODY_RETENTION_MS);
    windows.pruneWindows(this.sql, now);
    pruneEarly(this.sql, now);
    pruneReports(this.sql, now - this.retentionMs(), PRUNE_CHUNK);
    // Settled rows stay (without body) for RETENTION_DAYS, so a late duplicate of an id is still known.
    this.sql.exec(
      "DELETE FROM queue WHERE seq IN (SELECT seq FROM queue WHERE state IN ('done', 'failed') AND enqueued_at <= ? AND synced_version = version ORDER BY enqueued_at LIMIT ?)",
      now - this.retentionMs(),
      PRUNE_CHUNK,
    );
    await this.clock.at(this.nextWake(synced, slot));
  }

  /** Waits for `event` or for new work (an enqueue, a finished send), whichever comes first. */
  private async pause(event: Promise<unknown>): Promise<void> {
    await Promise.race([event.catch(() => undefined), new Promise<void>((resolve) => (this.interrupt = resolve))]);
    this.interrupt = undefined;
  }

  private orphansToUnknown(): void {
    const inflight = this.sql.exec<{ id: string }>("SELECT id FROM queue WHERE state = 'inflight'").toArray();
    for (const { id } of inflight) {
      if (!this.sending.has(id)) this.sql.exec("UPDATE queue SET state = 'unknown', version = version + 1 WHERE id = ?", id);
    }
  }

  private async keepAlive(): Promise<void> {
    const now = Date.now();
    if (now + WATCHDOG_MS / 2 < this.watchdogUntil) return;
    this.watchdogUntil = now + WATCHDOG_MS;
    await this.ctx.storage.setAlarm(this.watchdogUntil);
  }

  private nextWake(synced: boolean, slot: number | undefined): number | undefined {
    const queued = this.work.nextHeadAt();
    const { unknown } = this.sql.exec<{ unknown: number | null }>("SELECT MIN(not_before) AS unknown FROM queue WHERE state IN ('unknown', 'inflight')").one();
    // An idle sender still wakes when its oldest settled row is due for pruning.
    const { settled } = this.sql.exec<{ settled: number | null }>("SELECT MIN(enqueued_at) AS settled FROM queue WHERE state IN ('done', 'failed') AND synced_version = version").one();
    const candidates = [
      queued === null ? Infinity : Math.max(queued, slot ?? this.rate.nextSlot()),
      unknown ?? Infinity,
      nextCheckAt(this.sql) ?? Infinity,
      nextIdleAt(this.sql) ?? Infinity,
      nextReportAt(this.sql) ?? Infinity,
      synced && !hasDirty(this.sql, "queue") ? Infinity : Date.now() + SYNC_RETRY_MS,
      settled === null ? Infinity : settled + this.retentionMs(),
    ];
    const at = Math.min(...candidates);
    this.watchdogUntil = 0;
    return Number.isFinite(at) ? at : undefined;
  }
}
