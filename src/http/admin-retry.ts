import { database } from "../adapters/db/client";
import { messageByAnyId, reopenReport } from "../adapters/db/admin";
import { outboundByCxoneId, updateOutbound } from "../adapters/db/outbound";
import { d1Reports } from "../adapters/db/outbox";
import type { deadLetters } from "../adapters/db/schema";
import type { Ready } from "../config";
import { cxonePort } from "../adapters/cxone/port";
import { policyFrom } from "../domain/backoff";
import { threadName } from "../domain/inbound";
import { flushReports } from "../domain/outbox";
import { AppError } from "../errors";

type DeadLetter = typeof deadLetters.$inferSelect;

/** Puts a dead letter back where it came from: its thread, its sender's queue, or the report outbox. */
export async function retryDeadLetter(env: Env, config: Ready, letter: DeadLetter): Promise<{ outcome: string; state?: string }> {
  const db = database(env.DB);
  if (letter.kind === "status") {
    const [cxoneMessageId, status] = [letter.ref.slice(0, letter.ref.lastIndexOf(":")), letter.ref.slice(letter.ref.lastIndexOf(":") + 1)];
    // A sent message's reports are its sender object's; a refusal's are in D1's outbox.
    const owner = (await outboundByCxoneId(db, cxoneMessageId))?.sender;
    const held = owner ? await env.SENDER.getByName(owner).retryReport(cxoneMessageId, status!) : { reopened: false, sent: 0 };
    if (held.reopened) return { outcome: held.sent > 0 ? "reported" : "queued for the next sweep" };
    const id = await reopenReport(db, cxoneMessageId, status!);
    if (id === undefined) throw new AppError(409, "cannot_retry", "the report is no longer dead");
    const result = await flushReports(d1Reports(db), cxonePort(env), policyFrom(config), { messages: [cxoneMessageId] });
    return { outcome: result.sent > 0 ? "reported" : "queued for the next sweep" };
  }
  const row = await messageByAnyId(db, letter.ref);
  if (!row || !row.sender) throw new AppError(409, "cannot_retry", "the message behind this dead letter is unknown");
  if (letter.kind === "inbound") {
    const status = await env.CONVERSATION.getByName(threadName(row.customer, row.sender)).retry(letter.ref);
    if (!status.message) throw new AppError(409, "cannot_retry", "the thread no longer holds this message");
    return { outcome: "redelivered", state: status.message.state };
  }
  if (!(await env.SENDER.getByName(row.sender).retry(letter.ref))) {
    throw new AppError(409, "cannot_retry", "the message body is no longer held; ask CXone to send it again");
  }
  await updateOutbound(db, letter.ref, { state: "queued", lastError: null, checkAt: Date.now() + config.RECONCILE_AFTER_MINUTES * 60_000 });
  return { outcome: "queued", state: "queued" };
}
