import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { database } from "../adapters/db/client";
import { messageByAnyId, messagesOfConversation, optOutsOf, removeOptOuts, reportsOf } from "../adapters/db/admin";
import { conversationById } from "../adapters/db/conversations";
import { deadLetterById, markRetried, openDeadLetters } from "../adapters/db/dead-letters";
import { addOptOut } from "../adapters/db/outbound";
import { statusHistory } from "../adapters/db/status";
import { d1State } from "../adapters/db/outbound-mirror";
import { requireConfig } from "../config";
import { reconcileDeps } from "../deps";
import { threadName } from "../domain/inbound";
import { senderObjects } from "../domain/outbound/shards";
import { reconcile } from "../domain/reconcile";
import { AppError, unauthorized } from "../errors";
import { log } from "../log";
import { retryDeadLetter } from "./admin-retry";
import { BusinessKey, DeadLetterId, DeadLetterLimit, OptOutBody, PhoneParam } from "./api-schemas";
import type { AppEnv } from "./app";
import { hasBearer } from "./auth";
import { parseOr400, validated } from "./validate";


/** The operator's view (contract §3 /admin/*): bearer ADMIN_TOKEN, compared in constant time. */
// `{"business": …}` is all an opt-out takes: a bigger body is refused before it is parsed.
const optOutBodyLimit = bodyLimit({
  maxSize: 4 * 1024,
  onError: () => {
    throw new AppError(413, "payload_too_large", "an opt-out body is at most 4 KB");
  },
});

export const adminRoutes = new Hono<AppEnv>()
  .use("/admin/*", async (c, next) => {
    const config = requireConfig(c.env, "admin");
    if (!hasBearer(c, config.ADMIN_TOKEN)) throw unauthorized("the admin API needs Authorization: Bearer <ADMIN_TOKEN>");
    await next();
  })
  .get("/admin/messages/:id", async (c) => {
    const db = database(c.env.DB);
    const row = await messageByAnyId(db, c.req.param("id"));
    if (!row) throw new AppError(404, "not_found", "no message with that CXone id or MessageSid");
    const queue =
      row.direction === "outbound" && row.sender && row.cxoneMessageId
        ? ((await c.env.SENDER.getByName(row.sender).inspect(row.cxoneMessageId)) ?? null)
        : row.direction === "inbound" && row.sender && row.messageSid
          ? ((await c.env.CONVERSATION.getByName(threadName(row.customer, row.sender)).status(row.messageSid)).message ?? null)
          : null;
    // An outbound message's live state is its sender object's (D1 gets it a moment later);
    // D1 adds what came before the object kept it: orphaned callbacks, refusals' reports.
    const held = queue && "reports" in queue ? queue : undefined;
    const live = held ? { state: d1State(held.state, held.settled), messageSid: held.sid, twilioStatus: held.twilio_status, errorCode: held.error_code } : {};
    return c.json({
      message: { ...row, ...live },
      statusHistory: [
        ...(row.messageSid ? await statusHistory(db, [row.messageSid]) : []),
        ...(held?.statuses ?? []).map((e) => ({ messageSid: held!.sid, status: e.status, errorCode: e.errorCode, receivedAt: e.at, matched: true })),
      ],
      reports: [
        ...(row.cxoneMessageId && row.direction === "outbound" ? (await reportsOf(db, row.cxoneMessageId)).map(({ payload: _p, ...r }) => r) : []),
        ...(held?.reports ?? []).map((r) => ({ ...r, cxoneMessageId: row.cxoneMessageId })),
      ],
      queue: held ? (({ statuses: _s, reports: _r, ...rest }) => rest)(held) : queue,
    });
  })
  .get("/admin/conversations/:conversationId", async (c) => {
    const db = database(c.env.DB);
    const id = c.req.param("conversationId");
    const conversation = await conversationById(db, id);
    const list = await messagesOfConversation(db, id);
    if (!conversation && list.length === 0) throw new AppError(404, "not_found", "no such conversation");
    return c.json({ conversation: conversation ?? null, messages: list });
  })
  .get("/admin/dead-letters", async (c) => {
    const limit = parseOr400(DeadLetterLimit, c.req.query("limit"));
    return c.json({ deadLetters: await openDeadLetters(database(c.env.DB), limit) });
  })
  .post("/admin/dead-letters/:id/retry", async (c) => {
    const id = parseOr400(DeadLetterId, c.req.param("id"));
    const db = database(c.env.DB);
    const letter = await deadLetterById(db, id);
    if (!letter) throw new AppError(404, "not_found", "no such dead letter");
    if (letter.state !== "open") throw new AppError(409, "already_retried", "this dead letter was retried already");
    const result = await retryDeadLetter(c.env, requireConfig(c.env), letter);
    await markRetried(db, id);
    log("info", "deadletter.retried", { kind: letter.kind, reason: result.outcome });
    return c.json({ id, kind: letter.kind, ref: letter.ref, ...result });
  })
  .get("/admin/opt-outs/:phone", validated("param", PhoneParam), async (c) => {
    const { phone } = c.req.valid("param");
    const rows = await optOutsOf(database(c.env.DB), phone);
    return c.json({ phone, suppressed: rows.length > 0, optOuts: rows });
  })
  .put("/admin/opt-outs/:phone", optOutBodyLimit, validated("param", PhoneParam), async (c) => {
    const { phone } = c.req.valid("param");
    const raw = await c.req.text();
    let body: unknown = {};
    if (raw.trim()) {
      try {
        body = JSON.parse(raw);
      } catch {
        throw new AppError(400, "invalid_json", "the body is not valid JSON");
      }
    }
    const { business } = parseOr400(OptOutBody, body);
    await addOptOut(database(c.env.DB), [business], phone, "admin");
    log("info", "optout.added", { customer: phone, kind: "admin", sender: business });
    return c.json({ phone, business, suppressed: true });
  })
  .delete("/admin/opt-outs/:phone", validated("param", PhoneParam), async (c) => {
    const { phone } = c.req.valid("param");
    const business = c.req.query("business");
    if (business !== undefined) parseOr400(BusinessKey, business);
    const removed = await removeOptOuts(database(c.env.DB), phone, business);
    log("info", "optout.removed", { customer: phone, kind: "admin", count: removed });
    return c.json({ phone, removed });
  })
  .get("/admin/senders/:sender", async (c) => {
    const sender = parseOr400(BusinessKey.refine((v) => v !== "*", "must be a sender number or MG SID"), c.req.param("sender"));
    // A sharded Messaging Service answers for all its objects together: counts summed, sends merged.
    const objects = senderObjects(requireConfig(c.env), sender);
    const parts = await Promise.all(objects.map(async (name) => {
      const stub = c.env.SENDER.getByName(name);
      return { stats: await stub.stats(), sent: await stub.dispatchLog() };
    }));
    const sum = (k: "rate" | "queued" | "sending" | "done" | "failed" | "dead") => parts.reduce((n, p) => n + p.stats[k], 0);
    return c.json({
      sender,
      rate: sum("rate"),
      queued: sum("queued"),
      sending: sum("sending"),
      done: sum("done"),
      failed: sum("failed"),
      dead: sum("dead"),
      shards: objects.length > 1 ? parts.map((p, k) => ({ ...p.stats, sender: objects[k] })) : undefined,
      sent: parts.flatMap((p, k) => (objects.length > 1 ? p.sent.map((s) => ({ ...s, shard: objects[k] })) : p.sent)).sort((a, b) => a.at - b.at),
    });
  })
  .post("/admin/reconcile", async (c) => {
    const config = requireConfig(c.env);
    return c.json(await reconcile(reconcileDeps(c.env, config), { now: Date.now(), recheckMs: config.RECONCILE_AFTER_MINUTES * 60_000 }));
  });
