import { database } from "../adapters/db/client";
import { rebindBusiness } from "../adapters/db/conversations";
import { addOptOut } from "../adapters/db/outbound";
import type { TwilioApi } from "../adapters/twilio/client";
import type { TwilioMessage } from "../adapters/twilio/schemas";
import { requireConfig } from "../config";
import { backoffDelay, policyFrom } from "../domain/backoff";
import type { OutboundJob } from "../domain/outbound/job";
import { classifySendError } from "../domain/outbound/outcome";
import { asAppError } from "../errors";
import { log } from "../log";
import { SEND_PATH, type QueueRow } from "./sender-queue";
import { OptOutScreen } from "./sender-screen";
import { lastInbound } from "./whatsapp-window";
import { isWhatsApp } from "../domain/compliance/e164";
import { cxoneErrorCode, insideWindow, OUTSIDE_WINDOW } from "../domain/whatsapp";

/** What follows a send's outcome, beyond the queue row: reports to CXone, the status machine, D1. */
export interface Lifecycle {
  /** Twilio has the message (sent, or found after a lost answer) and told it this status. */
  sent(id: string, twilio: TwilioMessage): Promise<void>;
  /** Failed or dead without reaching Twilio: its FAILED report (and, dead, the dead letter). */
  failed(id: string): Promise<void>;
  /** The object's key, carried in the StatusCallback URL so that callbacks come straight here. */
  senderKey(): string;
}

/** A lost answer is matched to a message Twilio created no earlier than this before the attempt. */
const MATCH_SKEW_MS = 5_000;

/**
 * The send side of a sender's queue: picking the next message, handing it to Twilio, reading
 * the outcome, and recovering sends whose answer was lost.
 */
export class SendWork {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly holdBucket: (until: number) => void,
    private readonly lifecycle: Lifecycle,
    /** The object's clock (tests move it forward); Twilio-facing times stay on the wall clock. */
    private readonly now: () => number,
  ) {
    this.screen = new OptOutScreen(sql, env, now);
  }

  private readonly screen: OptOutScreen;

  /**
   * The next message that may go: queued, due, past the ordering window, and first in its
   * conversation with nothing of that conversation in flight or unresolved — the earliest due.
   */
  head(now: number): QueueRow | undefined {
    return this.sql.exec<QueueRow>(SEND_PATH.head, now).toArray()[0];
  }

  /**
   * When the next message may go, as far as the queue decides it: the earliest time any
   * conversation's first message is due and past its ordering window. Only a conversation's first
   * message counts — a later one due sooner must still wait for it (the earliest of all rows would
   * wake the object at a time when nothing can go, and re-arming for a time already past is lost).
   */
  nextHeadAt(): number | null {
    return this.sql.exec<{ at: number | null }>(SEND_PATH.nextHeadAt).one().at;
  }

  /**
   * Checked when a message becomes next in line, a slot before it leaves, so that no D1 read sits
   * between the slot and the send (the opt-outs are read for the next heads at once: OptOutScreen):
   * a STOP that arrived while this message waited wins, and WhatsApp
   * free text whose 24-hour window closed while it waited (quiet hours, a backlog) is not sent —
   * Twilio would only fail it with 63016 after the agent thought it went (contract §9).
   */
  async refuseIfBlocked(row: QueueRow): Promise<boolean> {
    const job = JSON.parse(row.payload!) as OutboundJob;
    const [code, reason] = (await this.screen.suppressed(row))
      ? ["OPTED_OUT", "the recipient opted out"]
      : isWhatsApp(job.to) && !job.template && !insideWindow(lastInbound(this.sql, job.to), this.now())
        ? [OUTSIDE_WINDOW, "outside the WhatsApp 24-hour window: only a template may be sent"]
        : [];
    if (!code) return false;
    this.settle(row.id, "failed", { error_code: code, last_error: reason });
    log("info", "outbound.refused", { cxoneMessageId: row.id, conversationId: row.conversation_id, reason: code, to: job.to });
    await this.lifecycle.failed(row.id);
    return true;
  }

  /**
   * Hands one message to Twilio. `now` is the slot the bucket gave it; `answered` learns when
   * Twilio answered (the rate's window). The row leaves `queued` before the first await, so the
   * drain loop cannot pick it a second time meanwhile.
   */
  async dispatch(row: QueueRow, now: number, twilio: TwilioApi, answered: (at: number) => void): Promise<void> {
    const job = JSON.parse(row.payload!) as OutboundJob;
    if (row.recheck) {
      // In flight while Twilio is asked (a restart meanwhile finds it unresolved and asks again).
      this.sql.exec("UPDATE queue SET state = 'inflight', version = version + 1 WHERE id = ?", row.id);
      if (!(await this.lookBeforeResend(row, job, twilio))) return;
    }
    // Durable before the request leaves (output gate): a restart finds it "inflight", then asks Twilio.
    this.sql.exec(
      "UPDATE queue SET state = 'inflight', attempts = attempts + 1, attempt_at = ?, first_attempt_at = COALESCE(first_attempt_at, ?), dispatched_at = ?, recheck = 0, version = version + 1 WHERE id = ?",
      Date.now(),
      Date.now(),
      now,
      row.id,
    );
    const config = requireConfig(this.env);
    try {
      const sent = await twilio
        .send({
          to: job.to,
          body: job.body,
          from: job.from,
          messagingServiceSid: job.messagingServiceSid,
          mediaUrls: job.mediaUrls,
          statusCallback: statusCallbackUrl(config.PUBLIC_BASE_URL, this.lifecycle.senderKey(), row.id),
          ...(job.template ? { content: { sid: job.template.contentSid, variables: job.template.variables } } : {}),
        })
        .finally(() => answered(Date.now()));
      await this.accepted(row.id, sent, "outbound.sent");
      // A Messaging Service picked the number: the reply will come to that one.
      if (job.proactive && sent.from && sent.from !== job.business) {
        await rebindBusiness(database(this.env.DB), job.conversationId, sent.from).catch((err) => log("warn", "proactive.bind_failed", { conversationId: job.conversationId, reason: asAppError(err).detail }));
      }
    } catch (err) {
      await this.attemptFailed(row, job, err);
    }
  }

  /**
   * Sends whose answer was lost (timeout, 5xx, a restart mid-call) may have reached Twilio, and
   * Twilio may commit a request after the caller gave up on it. Ask Twilio before sending again,
   * and count "not in the list" only once LOST_ANSWER_GRACE_MS have passed since the attempt: a
   * lost answer must never become a second SMS.
   */
  async resolveUnknown(twilio: TwilioApi, now: number, sending: Map<string, Promise<void>>): Promise<void> {
    const rows = this.sql.exec<QueueRow>("SELECT * FROM queue WHERE state = 'unknown' AND not_before <= ? ORDER BY seq LIMIT 10", now).toArray();
    const config = requireConfig(this.env);
    for (const row of rows) {
      if (sending.has(row.id)) continue;
      const job = JSON.parse(row.payload!) as OutboundJob;
      const graceEnds = (row.attempt_at ?? row.enqueued_at) + config.LOST_ANSWER_GRACE_MS;
      try {
        const match = await this.findSent(row, job, twilio);
        if (match) {
          await this.accepted(row.id, match, "outbound.recovered");
        } else if (now < graceEnds) {
          // Not there yet is not "never": a slow API may still commit it. Look again after the grace.
          this.sql.exec("UPDATE queue SET not_before = ?, version = version + 1 WHERE id = ?", graceEnds, row.id);
          log("info", "outbound.lookup_wait", { cxoneMessageId: row.id, delayMs: graceEnds - now });
        } else if (row.attempts >= policyFrom(config).maxAttempts) {
          this.settle(row.id, "dead", { error_code: "RETRIES_EXHAUSTED", last_error: row.last_error });
          log("error", "deadletter", { kind: "outbound", cxoneMessageId: row.id, attempt: row.attempts, reason: row.last_error ?? "retries exhausted" });
          await this.lifecycle.failed(row.id);
        } else {
          // Twilio never got it: back in line, keeping its place in the conversation, and asked
          // about once more right before the resend.
          this.sql.exec("UPDATE queue SET state = 'queued', not_before = ?, ready_at = NULL, recheck = 1, version = version + 1 WHERE id = ?", now, row.id);
          log("warn", "outbound.resend", { cxoneMessageId: row.id, conversationId: row.conversation_id, attempt: row.attempts });
        }
      } catch (err) {
        const delayMs = backoffDelay(row.attempts, policyFrom(requireConfig(this.env)), asAppError(err).retryAfterMs);
        this.sql.exec("UPDATE queue SET not_before = ?, last_error = ?, version = version + 1 WHERE id = ?", this.now() + delayMs, asAppError(err).detail ?? "lookup failed", row.id);
        log("warn", "twilio.retry", { cxoneMessageId: row.id, reason: "could not ask Twilio about a lost answer", delayMs });
      }
    }
  }

  /** The message Twilio created for this row since its first attempt, if any. */
  private async findSent(row: QueueRow, job: OutboundJob, twilio: TwilioApi): Promise<TwilioMessage | undefined> {
    const since = (row.first_attempt_at ?? row.attempt_at ?? row.enqueued_at) - MATCH_SKEW_MS;
    const candidates = await twilio.listSent({ to: job.to, from: job.messagingServiceSid ? undefined : job.from, since: new Date(since) });
    return candidates.find(
      (m) =>
        // A template's text is Twilio's to render, so its body cannot be compared: the recipient,
        // the sender, the time and a SID not already this queue's must then do.
        (job.template !== undefined || (m.body ?? "") === job.body) &&
        (!job.messagingServiceSid || m.messaging_service_sid === job.messagingServiceSid) &&
        Date.parse(m.date_created ?? "") >= Math.floor(since / 1000) * 1000 &&
        this.sql.exec("SELECT 1 FROM queue WHERE sid = ?", m.sid).toArray().length === 0,
    );
  }

  /**
   * The second look right before a resend (contract §4): true when the send may go. A message found
   * after all is recorded as sent; a lookup that fails leaves the row unresolved, asked again later.
   */
  private async lookBeforeResend(row: QueueRow, job: OutboundJob, twilio: TwilioApi): Promise<boolean> {
    try {
      const match = await this.findSent(row, job, twilio);
      if (!match) return true;
      await this.accepted(row.id, match, "outbound.recovered");
    } catch (err) {
      const delayMs = backoffDelay(row.attempts, policyFrom(requireConfig(this.env)), asAppError(err).retryAfterMs);
      this.sql.exec("UPDATE queue SET state = 'unknown', not_before = ?, last_error = ?, version = version + 1 WHERE id = ?", this.now() + delayMs, asAppError(err).detail ?? "lookup failed", row.id);
      log("warn", "twilio.retry", { cxoneMessageId: row.id, reason: "could not ask Twilio before a resend", delayMs });
    }
    return false;
  }

  private async accepted(id: string, sent: TwilioMessage, event: "outbound.sent" | "outbound.recovered"): Promise<void> {
    // Twilio's own status for it goes through the status machine (Lifecycle.sent), after SENT.
    this.settle(id, "done", { sid: sent.sid, twilio_status: "queued", error_code: null, last_error: null });
    const row = this.row(id)!;
    log("info", event, {
      cxoneMessageId: id,
      messageSid: sent.sid,
      conversationId: row.conversation_id,
      segments: row.cost,
      attempt: row.attempts,
      latencyMs: (row.dispatched_at ?? Date.now()) - row.enqueued_at,
    });
    await this.lifecycle.sent(id, sent);
  }

  private async attemptFailed(row: QueueRow, job: OutboundJob, err: unknown): Promise<void> {
    const error = asAppError(err);
    const config = requireConfig(this.env);
    const policy = policyFrom(config);
    const attempts = row.attempts + 1;
    const reason = error.detail ?? error.publicMessage;
    const outcome = classifySendError(err);
    log("warn", "twilio.send_failed", { cxoneMessageId: row.id, conversationId: row.conversation_id, attempt: attempts, reason: outcome, errorCode: error.upstreamCode ?? error.upstreamStatus ?? null });
    if (outcome === "opted_out") {
      await addOptOut(database(this.env.DB), [job.business, job.from, job.messagingServiceSid], job.to, "twilio:21610");
      this.settle(row.id, "failed", { error_code: "OPTED_OUT", last_error: reason });
      await this.lifecycle.failed(row.id);
    } else if (outcome === "failed") {
      this.settle(row.id, "failed", { error_code: cxoneErrorCode(String(error.upstreamCode ?? error.upstreamStatus ?? "REFUSED")) ?? null, last_error: reason });
      await this.lifecycle.failed(row.id);
    } else if (outcome === "unknown") {
      // Whether Twilio has it is decided by asking (resolveUnknown), also once the budget is spent.
      this.sql.exec("UPDATE queue SET state = 'unknown', not_before = ?, last_error = ?, version = version + 1 WHERE id = ?", this.now(), reason, row.id);
    } else if (attempts >= policy.maxAttempts) {
      this.settle(row.id, "dead", { error_code: "RETRIES_EXHAUSTED", last_error: reason });
      log("error", "deadletter", { kind: "outbound", cxoneMessageId: row.id, attempt: attempts, reason });
      await this.lifecycle.failed(row.id);
    } else {
      const at = this.now() + backoffDelay(attempts, policy, error.retryAfterMs);
      if (outcome === "throttled") this.holdBucket(at);
      this.sql.exec("UPDATE queue SET state = 'queued', not_before = ?, ready_at = NULL, last_error = ?, version = version + 1 WHERE id = ?", at, reason, row.id);
    }
  }

  private settle(id: string, state: "done" | "failed" | "dead", fields: Partial<Record<"sid" | "twilio_status" | "error_code" | "last_error", string | null>>): void {
    // A sent message keeps its body until its final status (a carrier error may call for one
    // more try); a dead letter keeps it for the operator's retry; a refused one needs it no more.
    const keep = state === "failed" ? "NULL" : "payload";
    const sets = Object.keys(fields).map((k) => `${k} = ?`);
    this.sql.exec(
      `UPDATE queue SET state = ?, payload = ${keep}, ${sets.join(", ")}${sets.length ? "," : ""} version = version + 1 WHERE id = ?`,
      state,
      ...Object.values(fields),
      id,
    );
  }

  private row(id: string): QueueRow | undefined {
    return this.sql.exec<QueueRow>("SELECT * FROM queue WHERE id = ?", id).toArray()[0];
  }
}

/**
 * Where Twilio reports a send's statuses: the bridge's status route, with the sender object that
 * owns the message and its CXone id as routing keys (Twilio signs the whole URL, query included),
 * so a callback goes straight to the object without a D1 lookup (contract §3).
 */
export function statusCallbackUrl(base: string, sender: string, id: string): string {
  return `${base}/twilio/status?${new URLSearchParams({ o: sender, m: id }).toString()}`;
}
