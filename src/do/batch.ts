import { DurableObject } from "cloudflare:workers";
import { database } from "../adapters/db/client";
import { recordDeadLetter } from "../adapters/db/dead-letters";
import { requireConfig } from "../config";
import { proactiveDeps } from "../deps";
import { backoffDelay, policyFrom } from "../domain/backoff";
import { launchProactive, type ProactiveRequest } from "../domain/proactive";
import { asAppError } from "../errors";
import { log } from "../log";
import { SerialRunner } from "./runner";
import { Clock, Meta } from "./storage";

const SCHEMA = `
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
`;

/** Items launched at once: enough to stay ahead of a 30 segment/s sender, gentle on CXone. */
const CONCURRENCY = 8;
/** A pass hands back to a fresh alarm after this long. */
const PASS_MS = 20_000;

export interface BatchStats {
  pending: number;
  launched: number;
  failed: number;
  /** Refused at launch (opted out meanwhile) without a CXone message. */
  refused: number;
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
 * 10,000-recipient batch never holds a request open, and a restart resumes where it stopped —
 * launches are idempotent on each recipient's key, so nothing goes twice.
 */
export class BatchDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly meta: Meta;
  readonly clock: Clock;
  private readonly runner = new SerialRunner(() => this.pass());

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.meta = new Meta(this.sql);
    this.clock = new Clock(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(SCHEMA);
    });
  }

  /** Takes the batch's accepted recipients; a second call for the same batch changes nothing. */
  async start(batchId: string, requests: ProactiveRequest[]): Promise<{ accepted: number }> {
    if (this.meta.get("batchId")) return { accepted: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM items").one().n };
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const req of requests) {
        this.sql.exec("INSERT INTO items (key, payload, state, next_at) VALUES (?, ?, 'pending', ?) ON CONFLICT(key) DO NOTHING", req.key, JSON.stringify(req), now);
      }
      this.meta.set("batchId", batchId);
    });
    await this.clock.at(now);
    return { accepted: requests.length };
  }

  async stats(): Promise<BatchStats> {
    const rows = this.sql
      .exec<{ state: string; status: string | null; hasMessage: number; n: number }>(
        "SELECT state, status, message_id IS NOT NULL AS hasMessage, COUNT(*) AS n FROM items GROUP BY state, status, hasMessage",
      )
      .toArray();
    const sum = (match: (r: (typeof rows)[number]) => boolean) => rows.filter(match).reduce((s, r) => s + r.n, 0);
    return {
      pending: sum((r) => r.state === "pending"),
      launched: sum((r) => r.state === "done" && r.hasMessage === 1),
      failed: sum((r) => r.state === "failed"),
      refused: sum((r) => r.state === "done" && r.hasMessage === 0),
    };
  }

  /** Runs a pass now and reports (tests, operators). */
  async drain(): Promise<BatchStats> {
    await this.runner.run();
    return this.stats();
  }

  override async alarm(): Promise<void> {
    await this.runner.run();
  }

  private async pass(): Promise<void> {
    const config = requireConfig(this.env);
    const deps = proactiveDeps(this.env, config);
    const policy = policyFrom(config);
    const started = Date.now();
    while (Date.now() - started < PASS_MS) {
      const due = this.sql.exec<Item>("SELECT * FROM items WHERE state = 'pending' AND next_at <= ? ORDER BY seq LIMIT ?", this.clock.now(), CONCURRENCY).toArray();
      if (due.length === 0) break;
      await Promise.all(
        due.map(async (item) => {
          const req = JSON.parse(item.payload!) as ProactiveRequest;
          try {
            const answer = await launchProactive(deps, config, req);
            this.sql.exec("UPDATE items SET state = 'done', payload = NULL, status = ?, message_id = ? WHERE seq = ?", answer.status, answer.messageId, item.seq);
          } catch (err) {
            const error = asAppError(err);
            const attempt = item.attempts + 1;
            const reason = error.detail ?? error.publicMessage;
            if (!error.retryable || attempt >= policy.maxAttempts) {
              this.sql.exec("UPDATE items SET state = 'failed', attempts = ?, last_error = ? WHERE seq = ?", attempt, reason, item.seq);
              // Nothing was remembered for the key: sending the same request again is the retry.
              await recordDeadLetter(database(this.env.DB), { kind: "outbound", ref: `proactive:${req.key}`, reason: `proactive launch failed: ${reason}`, attempts: attempt });
              log("error", "deadletter", { kind: "proactive", batchId: req.batchId ?? null, campaignId: req.campaignId, attempt, reason });
            } else {
              const delayMs = backoffDelay(attempt, policy, error.retryAfterMs);
              this.sql.exec("UPDATE items SET attempts = ?, last_error = ?, next_at = ? WHERE seq = ?", attempt, reason, this.clock.now() + delayMs, item.seq);
              log("warn", "cxone.retry", { batchId: req.batchId ?? null, attempt, delayMs, reason });
            }
          }
        }),
      );
    }
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM items WHERE state = 'pending'").one().at;
    await this.clock.at(next ?? undefined);
    if (next === null) log("info", "proactive.batch_launched", { batchId: this.meta.get("batchId"), count: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM items").one().n });
  }
}
