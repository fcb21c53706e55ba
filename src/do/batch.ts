import { database } from "../adapters/db/client";
import { recordDeadLetter } from "../adapters/db/dead-letters";
import { recordBatchProgress } from "../adapters/db/proactive";
import { requireConfig, senderRate, type Ready } from "../config";
import { resolveSender } from "../domain/outbound/job";
import { proactiveDeps } from "../deps";
import { backoffDelay, policyFrom } from "../domain/backoff";
import { launchMany, type Launch, type ProactiveRequest } from "../domain/proactive";
import { asAppError } from "../errors";
import { log } from "../log";
import { SerialRunner } from "./runner";
import { SqliteObject } from "./sqlite-object";
import { BatchTally, type BatchStats } from "./batch-tally";

export type { BatchStats };

const TABLES = `
CREATE TABLE IF NOT EXISTS items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  payload TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  status TEXT,
  message_id TEXT
);
CREATE INDEX IF NOT EXISTS items_due ON items(state, next_at);
CREATE INDEX IF NOT EXISTS items_pending ON items(seq) WHERE state = 'pending';
`;

/**
 * The next pending recipients in the order they were given, read from the pending index in that
 * order: through items_due, SQLite sorted every pending item to find the first few (17 ms a group
 * with 70,000 pending, and more the larger the batch).
 */
export const NEXT_DUE = "SELECT * FROM items INDEXED BY items_pending WHERE state = 'pending' AND next_at <= ? ORDER BY seq LIMIT ?";

/**
 * Launches are paced by the sender's rate: a launched recipient is a CXone conversation showing
 * the alert and an SMS in the sender's bucket, so launching far ahead of the bucket only shows
 * agents alerts that have not gone out yet (and loads CXone and the Worker for nothing). But a
 * launch takes a CXone round trip or two: paced at exactly the rate, the bucket would starve
 * whenever launches ran slow. So launches may run up to LEAD_S seconds of the rate ahead of the
 * batch's ideal drain (since its first launch) and catch up when behind.
 */
const LEAD_S = 10;
/**
 * Recipients launched together: D1 is read and written once per step for the whole group, not
 * per recipient, and the group's CXone calls run at once. Half a second of the rate, 8 to 50.
 */
const groupFor = (rate: number) => Math.min(50, Math.max(8, Math.ceil(rate / 2)));

function launchRate(config: Ready, req: ProactiveRequest): number {
  const sender = resolveSender(config, req.from, undefined, req.channel);
  return senderRate(config, sender?.key ?? "");
}

interface Item {
  seq: number;
  key: string;
  payload: string | null;
  state: "pending" | "done" | "failed";
  attempts: number;
  next_at: number;
  [k: string]: SqlStorageValue;
}

/**
 * One per proactive batch: its recipients, durably, until each is launched (conversation created,
 * SMS queued in its sender's bucket). Answered at once by the route; drained by the alarm, so a
 * 100,000-recipient batch never holds a request open, and a restart resumes where it stopped —
 * launches are idempotent on each recipient's key, so nothing goes twice.
 */
export class BatchDO extends SqliteObject {
  private readonly runner = new SerialRunner(() => this.pass());
  private readonly tally: BatchTally;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, { tables: TABLES });
    this.tally = new BatchTally(this.sql, this.meta);
    void ctx.blockConcurrencyWhile(async () => this.tally.ensure());
  }

  /**
   * Takes a share of the batch's accepted recipients (a batch of 100,000 comes in several, each
   * well under an RPC's size limit); launching starts with the first. A recipient given twice is
   * kept once, so a repeated call changes nothing.
   */
  async add(batchId: string, requests: ProactiveRequest[]): Promise<{ accepted: number }> {
    const now = Date.now();
    this.transaction(() => {
      let added = 0;
      for (const req of requests) {
        // rowsWritten counts index entries too (here and below): any at all is one recipient.
        if (this.sql.exec("INSERT INTO items (key, payload, state, next_at) VALUES (?, ?, 'pending', ?) ON CONFLICT(key) DO NOTHING", req.key, JSON.stringify(req), now).rowsWritten > 0) added += 1;
      }
      this.tally.add("total", added);
      if (!this.meta.get("batchId")) this.meta.set("batchId", batchId);
      // A share that came after the first ones were all launched: the batch is not done after all.
      if (added > 0) this.meta.delete("finishedAt");
    });
    await this.clock.soon(now);
    return { accepted: this.tally.total() };
  }

  async stats(): Promise<BatchStats> {
    return this.tally.stats();
  }

  /** Runs a pass now and reports (tests, operators). */
  async drain(): Promise<BatchStats> {
    await this.runner.run();
    return this.stats();
  }

  override async alarm(): Promise<void> {
    if (this.meta.get("finishedAt") && this.clock.now() >= this.pruneAt()) {
      // Its retention is over: the recipients' records go (the batch's D1 row goes at the same age).
      this.transaction(() => {
        this.sql.exec("DELETE FROM items");
        this.meta.clear();
        this.tally.ensure();
      });
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.alarmSafely("batch", () => this.runner.run());
  }

  /**
   * The Cron's sweep of unfinished batches: an object whose alarm was lost (or never armed) with
   * recipients still pending is woken. Cheap when all is well: it only reads its alarm.
   */
  async wake(): Promise<{ pending: number; known: boolean }> {
    if (!this.meta.get("batchId")) return { pending: 0, known: false };
    const { pending } = await this.stats();
    if (pending > 0 && (await this.ctx.storage.getAlarm()) === null) await this.clock.soon(Date.now());
    if (pending === 0) await this.reportProgress();
    return { pending, known: true };
  }

  private pruneAt(): number {
    return Number(this.meta.get("finishedAt")) + requireConfig(this.env).RETENTION_DAYS * 86_400_000;
  }

  /** Progress into D1, where the batch's status is read; a failed write is made good by the next. */
  private async reportProgress(): Promise<void> {
    const batchId = this.meta.get("batchId");
    if (!batchId) return;
    const { pending, launched, failed, refused } = await this.stats();
    if (pending === 0 && !this.meta.get("finishedAt")) this.meta.set("finishedAt", String(Date.now()));
    const finishedAt = this.meta.get("finishedAt");
    await recordBatchProgress(database(this.env.DB), batchId, { launched, failed, refused, finishedAt: finishedAt ? Number(finishedAt) : null }).catch((err) =>
      log("warn", "proactive.progress_failed", { batchId, reason: asAppError(err).detail ?? asAppError(err).publicMessage }),
    );
  }

  private async pass(): Promise<void> {
    const config = requireConfig(this.env);
    const deps = proactiveDeps(this.env, config);
    const policy = policyFrom(config);
    const started = Date.now();
    const first = this.sql.exec<Item>(NEXT_DUE, Number.MAX_SAFE_INTEGER, 1).toArray()[0];
    const rate = first ? launchRate(config, JSON.parse(first.payload!) as ProactiveRequest) : 1;
    if (first && !this.meta.get("launchStart")) this.meta.set("launchStart", String(started));
    const sinceStart = (started - Number(this.meta.get("launchStart") ?? started)) / 1000;
    const budget = Math.max(0, Math.ceil((sinceStart + LEAD_S) * rate) - Number(this.meta.get("launches") ?? 0));
    let launched = 0;
    let reportedAt = started;
    while (launched < budget) {
      const limit = Math.min(groupFor(rate), budget - launched);
      const due = this.sql.exec<Item>(NEXT_DUE, this.clock.now(), limit).toArray();
      if (due.length === 0) break;
      launched += due.length;
      this.meta.set("launches", String(Number(this.meta.get("launches") ?? 0) + due.length));
      const reqs = due.map((item) => JSON.parse(item.payload!) as ProactiveRequest);
      const results = await launchMany(deps, config, reqs).catch((error: unknown) => reqs.map((): Launch => ({ ok: false, error })));
      await Promise.all(due.map((item, i) => this.settle(item, reqs[i]!, results[i]!, policy)));
      // Progress into D1 about once a second, not per group.
      if (Date.now() - reportedAt >= 1_000) {
        await this.reportProgress();
        reportedAt = Date.now();
      }
    }
    await this.reportProgress();
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM items WHERE state = 'pending'").one().at;
    // Ahead as far as allowed: the rest waits until the sender has caught up by a group; once all
    // are launched, the alarm is the end of the batch's retention.
    const caughtUp = started + Math.max(100, (groupFor(rate) / rate) * 1000);
    await this.clock.at(next === null ? this.pruneAt() : launched >= budget ? Math.max(next, caughtUp) : next);
    if (next === null) log("info", "proactive.batch_launched", { batchId: this.meta.get("batchId"), count: this.tally.total() });
  }

  /** One recipient's launch: done, or tried again after its backoff, or given up (a dead letter). */
  private async settle(item: Item, req: ProactiveRequest, launch: Launch, policy: ReturnType<typeof policyFrom>): Promise<void> {
    if (launch.ok) {
      const done = this.sql.exec("UPDATE items SET state = 'done', payload = NULL, status = ?, message_id = ? WHERE seq = ? AND state = 'pending'", launch.answer.status, launch.answer.messageId, item.seq);
      if (done.rowsWritten > 0) this.tally.add(launch.answer.messageId === null ? "refused" : "launched");
      return;
    }
    const error = asAppError(launch.error);
    const attempt = item.attempts + 1;
    const reason = error.detail ?? error.publicMessage;
    // The dead letter first: if it cannot be written, the item stays pending and is tried
    // again, rather than failing with nobody told.
    const dead = (!error.retryable || attempt >= policy.maxAttempts) && (await this.deadLetter(req, reason, attempt));
    if (dead) {
      const failed = this.sql.exec("UPDATE items SET state = 'failed', attempts = ?, last_error = ? WHERE seq = ? AND state = 'pending'", attempt, reason, item.seq);
      if (failed.rowsWritten > 0) this.tally.add("failed");
      log("error", "deadletter", { kind: "proactive", batchId: req.batchId ?? null, campaignId: req.campaignId, attempt, reason });
    } else {
      const delayMs = backoffDelay(attempt, policy, error.retryAfterMs);
      this.sql.exec("UPDATE items SET attempts = ?, last_error = ?, next_at = ? WHERE seq = ?", attempt, reason, this.clock.now() + delayMs, item.seq);
      log("warn", "cxone.retry", { batchId: req.batchId ?? null, attempt, delayMs, reason });
    }
  }

  /** Files the dead letter of a recipient whose launch failed for good; false if D1 would not take it. */
  private async deadLetter(req: ProactiveRequest, reason: string, attempts: number): Promise<boolean> {
    // Nothing was remembered for the key: sending the same request again is the retry.
    return recordDeadLetter(database(this.env.DB), { kind: "outbound", ref: `proactive:${req.key}`, reason: `proactive launch failed: ${reason}`, attempts }).then(
      () => true,
      (err) => {
        log("warn", "d1.retry", { kind: "dead_letters", batchId: req.batchId ?? null, reason: asAppError(err).detail });
        return false;
      },
    );
  }
}
