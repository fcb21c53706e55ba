import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonChunks } from "../../src/adapters/db/chunks";
import { database } from "../../src/adapters/db/client";
import { createBatch, usedKeys } from "../../src/adapters/db/proactive";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";

/**
 * Batches past the old 10,000 (issue 12, goal 5): the recipients reach the batch's object in
 * shares, the D1 lookups of a batch go in chunks D1 can bind, and a large batch's status is
 * counted at most every few seconds however often it is read.
 */
useEmulators();
afterEach(() => vi.useRealTimers());

const headers = { "content-type": "application/json", authorization: `Bearer ${B.API_TOKEN}` };
const post = (body: unknown) => exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/v1/proactive`, { method: "POST", headers, body: JSON.stringify(body) }));
const status = async (id: string) =>
  (await (await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/v1/proactive/batches/${id}`, { headers }))).json()) as { counts: Record<string, number> };
/** Stops the batch's launches: these tests look at what the request left, not at a 12,000-message drain. */
const hold = (batchId: string) => runInDurableObject(env.BATCH.getByName(batchId), (_i, state) => state.storage.deleteAlarm());
const recipients = (count: number, tag: string) => Array.from({ length: count }, (_, i) => ({ to: `+1646${String(3_000_000 + i).padStart(7, "0")}`, text: "Storm: your flight is delayed", idempotencyKey: `${tag}-${i}` }));

describe("large proactive batches", () => {
  it("splits a list into JSON arrays under the byte limit, in order, none empty", () => {
    const values = Array.from({ length: 1_000 }, (_, i) => `key-${i}-${"é".repeat(i % 7)}`);
    const chunks = jsonChunks(values, 2_000);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(new TextEncoder().encode(chunk).length).toBeLessThanOrEqual(2_000);
    expect(chunks.flatMap((c) => JSON.parse(c) as string[])).toEqual(values);
    expect(jsonChunks([])).toEqual([]);
  });

  it("finds used keys among 30,000 (2.3 MB of JSON, more than D1 binds at once)", async () => {
    const tag = crypto.randomUUID();
    const keys = Array.from({ length: 30_000 }, (_, i) => `${tag}-${String(i).padStart(36, "0")}`);
    expect(JSON.stringify(keys).length).toBeGreaterThan(2_000_000);
    const used = [keys[0]!, keys[15_000]!, keys[29_999]!];
    for (const key of used) {
      await env.DB.prepare("INSERT INTO proactive_requests (idempotency_key, campaign_id, status, created_at) VALUES (?, 'c', 'queued', 0)").bind(key).run();
    }
    expect([...(await usedKeys(database(env.DB), keys))].sort()).toEqual(used.sort());
  });

  it("takes 12,000 recipients (past the old limit, in three shares) and answers 202 with each in the batch's object once", async () => {
    const tag = crypto.randomUUID();
    const res = await post({ campaignId: "storm", messages: recipients(12_000, tag) });
    expect(res.status).toBe(202);
    const { batchId, accepted, refused } = (await res.json()) as { batchId: string; accepted: number; refused: unknown[] };
    await hold(batchId);
    expect([accepted, refused]).toEqual([12_000, []]);
    const stats = await env.BATCH.getByName(batchId).stats();
    expect(stats.pending + stats.launched + stats.refused + stats.failed).toBe(12_000);
    // The same recipients again are refused as used only once launched; a share given twice is kept once.
    const again = await env.BATCH.getByName(batchId).add(batchId, []);
    expect(again.accepted).toBe(12_000);
  });

  it("refuses a batch over 100,000 recipients by name", async () => {
    const res = await post({ campaignId: "c", messages: Array.from({ length: 100_001 }, () => ({})) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("at most 100000 recipients");
  });

  it("counts a large batch at most every 5 seconds, however often its status is read", async () => {
    const tag = crypto.randomUUID();
    const { batchId } = (await (await post({ campaignId: "storm", messages: recipients(1_500, tag) })).json()) as { batchId: string };
    await hold(batchId);
    vi.useFakeTimers({ toFake: ["Date"] });
    const first = await status(batchId);
    // A message of the batch moves on; within 5 s the status still says what it said.
    await env.DB.prepare(
      "INSERT INTO messages (direction, state, created_at, updated_at, cxone_message_id, customer, batch_id, twilio_status) VALUES ('outbound', 'settled', 0, 0, ?, '+14155550100', ?, 'delivered')",
    )
      .bind(`msg-${tag}`, batchId)
      .run();
    vi.setSystemTime(Date.now() + 4_000);
    expect(await status(batchId)).toEqual(first);
    vi.setSystemTime(Date.now() + 2_000);
    expect((await status(batchId)).counts.delivered).toBe(first.counts.delivered! + 1);
  });

  it("counts a recipient launched but not yet reported by its batch's object once, not twice", async () => {
    const batchId = crypto.randomUUID();
    await createBatch(database(env.DB), { id: batchId, campaignId: "c", total: 3, accepted: 3, refused: 0, createdAt: Date.now() });
    // One recipient launched: its message row is there; its object's progress report is not yet.
    await env.DB.prepare("INSERT INTO messages (direction, state, created_at, updated_at, cxone_message_id, customer, batch_id) VALUES ('outbound', 'queued', 0, 0, ?, '+14155550100', ?)")
      .bind(`msg-${batchId}`, batchId)
      .run();
    const { counts } = await status(batchId);
    expect(counts.queued).toBe(3);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(3);
  });
});
