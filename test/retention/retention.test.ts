import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { TEST_BINDINGS as B } from "../support/bindings";
import { describe, expect, it } from "vitest";
import { retentionDeps } from "../../src/deps";
import { CHUNK, runRetention } from "../../src/domain/retention";
import { step } from "../support/clock";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, phone, postInbound, thread } from "../support/inbound";
import { outboundItem, pusher, sender, senderNumber, settle } from "../support/outbound";

/**
 * Issue 10, item 10 (contract §10): what is settled and older than RETENTION_DAYS is deleted, in
 * bounded chunks, by the Cron and by each object for its own rows — never an unsettled message,
 * an open dead letter or the suppression list.
 */
const emu = useEmulators();
const push = pusher(emu);
const DAY = 86_400_000;
const OLD = Date.now() - 31 * DAY;
const RECENT = Date.now() - 29 * DAY;

const run = (budgetMs = 60_000) => runRetention(retentionDeps(env), { now: Date.now(), days: 30, budgetMs });
const q = (sqlText: string, ...params: unknown[]) => env.DB.prepare(sqlText).bind(...params).run();
let n = 0;
const id = (kind: string) => `${kind}-${++n}-${crypto.randomUUID()}`;

/** An outbound message as the bridge leaves it: its row, its status history, its reports. */
async function outbound(state: string, updatedAt: number, opts: { reportState?: string; conversationId?: string } = {}) {
  const cxoneId = id("out");
  const sid = `SM${crypto.randomUUID().replace(/-/g, "")}`;
  await q(
    "INSERT INTO messages (direction, cxone_message_id, message_sid, conversation_id, customer, sender, state, twilio_status, created_at, updated_at) VALUES ('outbound', ?, ?, ?, ?, '+15550001000', ?, 'delivered', ?, ?)",
    cxoneId,
    sid,
    opts.conversationId ?? null,
    phone(),
    state,
    updatedAt,
    updatedAt,
  );
  for (const status of ["sent", "delivered"]) await q("INSERT INTO status_events (message_sid, status, received_at, matched) VALUES (?, ?, ?, 1)", sid, status, updatedAt);
  for (const status of ["SENT", "DELIVERED"]) {
    await q("INSERT INTO outbox (cxone_message_id, status, payload, state, next_attempt_at, created_at) VALUES (?, ?, '{}', ?, ?, ?)", cxoneId, status, opts.reportState ?? "done", updatedAt, updatedAt);
  }
  return { cxoneId, sid };
}
const exists = async (cxoneId: string) => (await d1Count("SELECT COUNT(*) AS n FROM messages WHERE cxone_message_id = ?", cxoneId)) === 1;

describe("retention in D1", () => {
  it("deletes settled messages past retention with their history and reports, and keeps everything else", async () => {
    const gone = await outbound("settled", OLD);
    const failed = await outbound("failed", OLD);
    const recent = await outbound("settled", RECENT);
    const unsettled = await outbound("submitted", OLD);
    const reportPending = await outbound("settled", OLD, { reportState: "pending" });
    const dead = await outbound("dead", OLD);
    await q("INSERT INTO dead_letters (kind, ref, reason, attempts, state, created_at, retried_at) VALUES ('outbound', ?, 'x', 3, 'retried', ?, ?)", id("resolved"), OLD, OLD);
    await q("INSERT INTO dead_letters (kind, ref, reason, attempts, state, created_at) VALUES ('outbound', ?, 'x', 3, 'open', ?)", dead.cxoneId, OLD);
    await q("INSERT INTO opt_outs (business, phone, source, created_at) VALUES ('+15550001000', ?, 'keyword', ?)", phone(), OLD);
    await q("INSERT INTO proactive_requests (idempotency_key, campaign_id, status, created_at) VALUES (?, 'c', 'queued', ?), (?, 'c', 'queued', ?)", id("old-key"), OLD, id("new-key"), RECENT);
    await q("INSERT INTO proactive_batches (id, campaign_id, total, accepted, refused, created_at, finished_at) VALUES (?, 'c', 1, 1, 0, ?, ?), (?, 'c', 1, 1, 0, ?, NULL)", id("done-batch"), OLD, OLD, id("open-batch"), OLD);
    const quiet = id("conv");
    const busy = id("conv");
    await q("INSERT INTO conversations (id, customer, status, proactive, created_at) VALUES (?, ?, 'active', 0, ?), (?, ?, 'active', 0, ?)", quiet, phone(), OLD, busy, phone(), OLD);
    const held = await outbound("submitted", OLD, { conversationId: busy });

    const before = { optOuts: await d1Count("SELECT COUNT(*) AS n FROM opt_outs"), openLetters: await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE state = 'open'") };
    const report = await run();
    expect(report).toMatchObject({ messages: 2, statusEvents: 4, reports: 4, deadLetters: 1, idempotencyRecords: 1, batches: 1, conversations: 1, behind: false });
    for (const m of [gone, failed]) {
      expect(await exists(m.cxoneId)).toBe(false);
      expect(await d1Count("SELECT COUNT(*) AS n FROM status_events WHERE message_sid = ?", m.sid)).toBe(0);
      expect(await d1Count("SELECT COUNT(*) AS n FROM outbox WHERE cxone_message_id = ?", m.cxoneId)).toBe(0);
    }
    for (const m of [recent, unsettled, reportPending, dead, held]) expect(await exists(m.cxoneId)).toBe(true);
    expect(await d1Count("SELECT COUNT(*) AS n FROM conversations WHERE id = ?", quiet)).toBe(0);
    expect(await d1Count("SELECT COUNT(*) AS n FROM conversations WHERE id = ?", busy)).toBe(1);
    expect(await d1Count("SELECT COUNT(*) AS n FROM opt_outs")).toBe(before.optOuts);
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE state = 'open'")).toBe(before.openLetters);
    expect(await d1Count("SELECT COUNT(*) AS n FROM proactive_batches WHERE finished_at IS NULL")).toBeGreaterThanOrEqual(1);

    // A second pass finds nothing more.
    expect((await run()).messages).toBe(0);
  });

  it("works in chunks of a bounded size, and stops at its budget with the rest left for the next tick", async () => {
    const count = CHUNK * 2 + 37;
    const stmt = env.DB.prepare(
      "INSERT INTO messages (direction, cxone_message_id, customer, sender, state, created_at, updated_at) VALUES ('outbound', ?, '+14155550000', '+15550001000', 'settled', ?, ?)",
    );
    await env.DB.batch(Array.from({ length: count }, (_, i) => stmt.bind(`SM${String(i).padStart(32, "0")}`, OLD + i, OLD + i)));
    const stopped = await run(0);
    expect(stopped).toMatchObject({ messages: 0, behind: true });
    const report = await run();
    expect(report.messages).toBe(count);
    expect(report.chunks).toBeGreaterThanOrEqual(3);
  });
});

describe("retention inside the Durable Objects", () => {
  it("a sender prunes its settled rows past retention, and an idle one wakes to do it", async () => {
    const from = senderNumber();
    const item = outboundItem({ from });
    await push(item);
    await settle(from);
    const stub = sender(from);
    expect(await stub.inspect(item.id)).toBeDefined();
    // Its final status settles it (nothing left to ask Twilio); the next pass writes it to D1.
    const sms = emu.twilio.messages().find((m) => m.to === item.to)!;
    await emu.twilio.sendStatus(sms.sid, "delivered");
    await step(stub);
    // Idle now: its alarm is armed for the day the row expires.
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 29 * DAY);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE queue SET enqueued_at = ? WHERE id = ?", OLD, item.id);
    });
    await step(stub);
    expect(await stub.inspect(item.id)).toBeUndefined();
  });

  it("a thread prunes its delivered rows past retention, and an idle one wakes to do it", async () => {
    const customer = phone();
    const fields = inboundFields({ From: customer });
    await postInbound(fields);
    const stub = thread(customer);
    await stub.deliver();
    expect((await stub.status(fields.MessageSid)).message?.state).toBe("delivered");
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 29 * DAY);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE inbound SET received_at = ? WHERE sid = ?", OLD, fields.MessageSid);
    });
    const mirrored = () => d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ?", fields.MessageSid);
    expect(await mirrored()).toBe(1);
    // The Cron's retention leaves a delivered text's D1 row to its thread: one index entry less per text.
    await q("UPDATE messages SET updated_at = ? WHERE message_sid = ?", OLD, fields.MessageSid);
    expect((await run()).messages).toBe(0);
    expect(await mirrored()).toBe(1);
    await step(stub);
    expect((await stub.status(fields.MessageSid)).message).toBeUndefined();
    expect(await mirrored()).toBe(0);
    // Pruned, so a Twilio replay this late would be taken as new: past retention, by design.
  });

  it("a finished batch deletes its recipients' records when its retention is over", async () => {
    const res = await exports.default.fetch(
      new Request(`${B.PUBLIC_BASE_URL}/v1/proactive`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${B.API_TOKEN}` },
        body: JSON.stringify({ campaignId: "retention", messages: [{ to: "+819012345678", text: "hello", idempotencyKey: id("key") }] }),
      }),
    );
    const { batchId } = (await res.json()) as { batchId: string };
    const stub = env.BATCH.getByName(batchId);
    await stub.drain();
    expect(await stub.stats()).toMatchObject({ pending: 0, launched: 1 });
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 29 * DAY);
    await step(stub);
    expect(await stub.stats()).toMatchObject({ pending: 0, launched: 0, failed: 0, refused: 0 });
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });
});
