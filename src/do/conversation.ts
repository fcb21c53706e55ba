import { cxonePort } from "../adapters/cxone/port";
import { database, type Db } from "../adapters/db/client";
import { newerProactive } from "../adapters/db/conversations";
import { markConversationGone } from "../adapters/db/inbound";
import { requireConfig } from "../config";
import { backoffDelay, policyFrom } from "../domain/backoff";
import type { CxonePort } from "../domain/cxone";
import { isWhatsApp } from "../domain/compliance/e164";
import { costOf } from "../domain/outbound/job";
import type { InboundMessage, Thread } from "../domain/inbound";
import { asAppError } from "../errors";
import { log } from "../log";
import { SerialRunner } from "./runner";
import { SqliteObject } from "./sqlite-object";
import { hasDirty, markSynced, syncDirty } from "./storage";
import { conversationChanged, mirrorRows, pruneDelivered, THREAD_SCHEMA, type InboundState, type Row } from "./thread-store";

/** A text's delivery starts as it is accepted; if the object dies first, its alarm comes this long after. */
const KICK_FALLBACK_MS = 10_000;
/** A D1 mirror write that failed is tried again after this long. */
const SYNC_RETRY_MS = 5_000;
/**
 * A busy thread's D1 traffic, at most once this often (each of the two): the lookup for a newer
 * proactive conversation, and the mirror of its texts, all changed rows in one write. A thread
 * that texts less often than this (nearly all) is looked up and mirrored with every text.
 */
const D1_EVERY_MS = 1_000;

export interface InboundStatus {
  conversationId: string | null;
  pending: number;
  dead: number;
  /** The message at the head of the queue: the one being delivered or waiting out a backoff. */
  head?: { sid: string; attempts: number; nextAt: number };
  message?: { sid: string; state: InboundState; attempts: number; lastError: string | null; nextAt: number | null };
}

/**
 * One per (customer, business number): serializes that customer's thread. Inbound messages are
 * queued here durably (this is where the body lives until CXone has it), answered at once, and
 * delivered by the alarm in arrival order, with backoff, until CXone has them or they are dead
 * letters. Because one object owns the thread, ten simultaneous first messages make one
 * conversation.
 */
export class ConversationDO extends SqliteObject {
  private readonly runner = new SerialRunner((force) => this.pass(force));
  /** When this object last looked for a newer proactive conversation, and last wrote its mirror. */
  private lookedAt = -Infinity;
  private mirroredAt = -Infinity;
  /** The dialect's port, built once per object rather than per pass. */
  private port: CxonePort | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, THREAD_SCHEMA);
  }

  /** Records an inbound message durably; delivery happens after the webhook is answered. */
  async accept(msg: InboundMessage): Promise<{ duplicate: boolean }> {
    const now = Date.now();
    const inserted = this.sql.exec(
      "INSERT INTO inbound (sid, payload, state, next_at, received_at, segments, encoding, opt_out, service) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?) ON CONFLICT(sid) DO NOTHING",
      msg.sid,
      JSON.stringify(msg),
      now,
      now,
      msg.segments,
      costOf(msg.from, msg.body).encoding,
      msg.optOut ?? null,
      msg.messagingServiceSid ?? null,
    ).rowsWritten;
    if (inserted === 0) return { duplicate: true };
    if (!this.meta.get("customer")) {
      this.meta.set("customer", msg.from);
      this.meta.set("business", msg.to);
    }
    // Durable here: Twilio gets its 200 without waiting on D1. The pass below delivers, then
    // writes the D1 mirror once, usually already as "delivered"; should the object die first, this
    // alarm is its fallback (armed only when no wake is due sooner, as on a busy thread).
    await this.clock.soon(now + KICK_FALLBACK_MS);
    // Except a keyword: its mirror carries the consent change, and the suppression list holds from
    // the moment Twilio has its answer (D1 down: the alarm writes it, as for any other text).
    if (msg.optOut) {
      const row = this.row(msg.sid)!;
      await mirrorRows(this.env, this.meta, [row]).then(
        () => markSynced(this.sql, "inbound", "sid", [[row.sid, row.version]]),
        () => undefined,
      );
    }
    // Started here rather than by an alarm set for now: an alarm per text was two alarm writes and
    // an alarm invocation (about a tenth of a busy thread's CPU, measured back to back on the
    // bench's inbound load). Not awaited: the webhook's answer does not wait on CXone.
    void this.runner.run(false).catch((err) => log("error", "thread.pass_failed", { reason: asAppError(err).detail ?? asAppError(err).publicMessage }));
    return { duplicate: false };
  }

  /**
   * Delivers what is due and waits for it; with `force`, also what is waiting out a backoff
   * (an operator's "retry now", the reconciler).
   */
  async deliver(force = false): Promise<InboundStatus> {
    this.d1Now();
    await this.runner.run(force);
    return this.status();
  }

  /** Puts a dead letter back in the queue and delivers it. */
  async retry(sid: string): Promise<InboundStatus> {
    this.sql.exec(
      "UPDATE inbound SET state = 'pending', attempts = 0, next_at = ?, last_error = NULL, version = version + 1 WHERE sid = ? AND state = 'dead' AND payload IS NOT NULL",
      Date.now(),
      sid,
    );
    this.d1Now();
    await this.runner.run(true);
    return this.status(sid);
  }

  /** Binds the thread to a conversation the bridge created on the business's side (proactive). */
  async status(sid?: string): Promise<InboundStatus> {
    const counts = this.sql
      .exec<{ state: string; n: number }>("SELECT state, COUNT(*) AS n FROM inbound WHERE state <> 'delivered' GROUP BY state")
      .toArray();
    const row = sid ? this.row(sid) : undefined;
    const head = this.sql.exec<Row>("SELECT * FROM inbound WHERE state = 'pending' ORDER BY seq LIMIT 1").toArray()[0];
    return {
      conversationId: this.meta.get("conversationId"),
      pending: counts.find((c) => c.state === "pending")?.n ?? 0,
      dead: counts.find((c) => c.state === "dead")?.n ?? 0,
      ...(head ? { head: { sid: head.sid, attempts: head.attempts, nextAt: head.next_at } } : {}),
      ...(row
        ? { message: { sid: row.sid, state: row.state, attempts: row.attempts, lastError: row.last_error, nextAt: row.state === "pending" ? row.next_at : null } }
        : {}),
    };
  }

  override async alarm(): Promise<void> {
    await this.alarmSafely("thread", () => this.runner.run(false));
  }

  private async pass(force: boolean): Promise<void> {
    const now = this.clock.now();
    const config = requireConfig(this.env);
    const policy = policyFrom(config);
    const cxone = (this.port ??= cxonePort(this.env));
    const db = database(this.env.DB);
    const thread: Thread = { conversationId: this.meta.get("conversationId"), generation: Number(this.meta.get("generation") ?? 0) };

    /** When the queue's head is due next (none: nothing pending), as the loop leaves it. */
    let nextAt: number | undefined;
    for (;;) {
      const head = this.sql.exec<Row>("SELECT * FROM inbound WHERE state = 'pending' ORDER BY seq LIMIT 1").toArray()[0];
      if (!head || (!force && head.next_at > now)) {
        nextAt = head?.next_at;
        break;
      }
      const msg = JSON.parse(head.payload!) as InboundMessage;
      const attempt = head.attempts + 1;
      const before = thread.conversationId;
      const started = Date.now();
      try {
        // Once a pass at most, too: the lookup's time is the pass's.
        if (now - this.lookedAt >= D1_EVERY_MS) {
          if (await this.adoptProactive(db, thread)) conversationChanged(this.meta);
          this.lookedAt = now;
        }
        // The window opens before the agent can see the message, so a reply to it is never refused.
        if (isWhatsApp(msg.to)) await this.env.SENDER.getByName(msg.to).openWindow(msg.from, Date.parse(msg.receivedAt));
        const result = await cxone.deliverInbound(thread, msg);
        if (result.created || result.reactivated) conversationChanged(this.meta);
        this.saveThread(thread);
        if (before && before !== result.conversationId && !result.reactivated) await markConversationGone(db, before).catch(() => undefined);
        this.sql.exec(
          "UPDATE inbound SET state = 'delivered', payload = NULL, attempts = ?, last_error = NULL, conversation_id = ?, cxone_message_id = ?, version = version + 1 WHERE sid = ?",
          attempt,
          result.conversationId,
          result.cxoneMessageId,
          msg.sid,
        );
        // A first-try delivery is the happy path: debug (the thread's mirror in D1, and
        // /admin/messages/:id, keep its state). One after a logged retry is news: info.
        log(attempt > 1 ? "info" : "debug", "inbound.delivered", {
          messageSid: msg.sid,
          from: msg.from,
          to: msg.to,
          segments: msg.segments,
          conversationId: result.conversationId,
          cxoneMessageId: result.cxoneMessageId,
          attempt,
          latencyMs: Date.now() - started,
        });
      } catch (err) {
        this.saveThread(thread);
        const error = asAppError(err);
        const reason = error.detail ?? error.publicMessage;
        if (!error.retryable || attempt >= policy.maxAttempts) {
          this.sql.exec(
            "UPDATE inbound SET state = 'dead', attempts = ?, last_error = ?, version = version + 1 WHERE sid = ?",
            attempt,
            reason,
            msg.sid,
          );
          log("error", "deadletter", { kind: "inbound", messageSid: msg.sid, attempt, reason });
          // The head is out of the way; the messages behind it may go.
        } else {
          const delayMs = backoffDelay(attempt, policy, error.retryAfterMs);
          nextAt = this.clock.now() + delayMs;
          this.sql.exec("UPDATE inbound SET attempts = ?, last_error = ?, next_at = ?, version = version + 1 WHERE sid = ?", attempt, reason, nextAt, msg.sid);
          log("warn", "cxone.retry", { messageSid: msg.sid, conversationId: thread.conversationId, attempt, delayMs, reason });
          // Keep conversation order: nothing behind the head goes before it.
          break;
        }
      }
    }

    let mirrorAt = Infinity;
    if (now - this.mirroredAt >= D1_EVERY_MS) {
      // Taken before the write: an explicit delivery that clears it meanwhile gets its own write.
      const last = this.mirroredAt;
      this.mirroredAt = now;
      const written = await syncDirty<Row>(this.sql, "inbound", "sid", (rows) => mirrorRows(this.env, this.meta, rows));
      // Nothing was behind (no await came between): the next text need not wait on this pass.
      if (written === 0) this.mirroredAt = last;
      else if (written === false) mirrorAt = Date.now() + SYNC_RETRY_MS;
    }
    // Rows changed since (or more than one write's worth) wait for the next second.
    if (mirrorAt === Infinity && hasDirty(this.sql, "inbound")) mirrorAt = Math.max(this.mirroredAt + D1_EVERY_MS, now);
    // Delivered rows stay (without body) for RETENTION_DAYS, so a late Twilio replay is still a duplicate.
    // The object's clock, as the wake below is: on two clocks a row due by one and kept by the other
    // re-arms the alarm for the same moment forever.
    const retentionMs = config.RETENTION_DAYS * 86_400_000;
    let oldest = this.oldestDelivered();
    if (oldest !== null && oldest <= this.clock.now() - retentionMs) {
      await pruneDelivered(this.sql, db, this.clock.now() - retentionMs);
      oldest = this.oldestDelivered();
    }
    // Only the head can go next (order), so its time is the next wake — not the earliest of all;
    // an idle thread still wakes when its oldest delivered row is due for pruning. A text accepted
    // since the loop left has its own pass coming (accept starts one).
    await this.clock.at(Math.min(nextAt ?? Infinity, mirrorAt, oldest === null ? Infinity : oldest + retentionMs));
  }

  /** An explicit call (an operator, the reconciler) looks and writes at once. */
  private d1Now(): void {
    this.lookedAt = this.mirroredAt = -Infinity;
  }

  private oldestDelivered(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(received_at) AS at FROM inbound WHERE state = 'delivered' AND synced_version = version").one().at;
  }

  private row(sid: string): Row | undefined {
    return this.sql.exec<Row>("SELECT * FROM inbound WHERE sid = ?", sid).toArray()[0];
  }

  /** A business opened a proactive conversation with this customer since the thread last changed: replies go there. */
  private async adoptProactive(db: Db, thread: Thread): Promise<boolean> {
    const boundAt = Number(this.meta.get("boundAt") ?? 0);
    const newer = await newerProactive(db, this.meta.get("customer")!, this.meta.get("business")!, boundAt);
    if (newer) {
      thread.conversationId = newer.id;
      this.meta.set("boundAt", String(newer.createdAt));
      log("info", "inbound.thread_adopted", { conversationId: newer.id });
    }
    return newer !== undefined;
  }

  private saveThread(thread: Thread): void {
    if (thread.conversationId !== this.meta.get("conversationId")) this.meta.set("boundAt", String(Date.now()));
    if (thread.conversationId) this.meta.set("conversationId", thread.conversationId);
    else this.meta.delete("conversationId");
    this.meta.set("generation", String(thread.generation));
  }
}
