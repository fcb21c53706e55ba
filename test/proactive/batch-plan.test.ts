import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { NEXT_DUE } from "../../src/do/batch";

/**
 * A batch's object must cost the same per group with 100 or 100,000 recipients behind it: its next
 * group is read in order from an index, and its counts are kept, not counted. Read from SQLite
 * itself (the rows each statement reads), so a plan that sorts or scans the items fails here.
 */
const BIG = 4_000;

function seed(sql: SqlStorage, n: number, state: "pending" | "done", prefix: string) {
  for (let i = 0; i < n; i++) {
    sql.exec("INSERT INTO items (key, payload, state, next_at, message_id) VALUES (?, '{}', ?, 0, ?)", `${prefix}-${i}`, state, state === "done" ? `m-${i}` : null);
  }
}

const batch = (name = `plan-${crypto.randomUUID()}`) => env.BATCH.getByName(name);

describe("a batch's object against a large batch", () => {
  it("reads its next group in the order given, a group's worth of rows, however many are pending or done", async () => {
    const readNext = (sql: SqlStorage) => {
      const cursor = sql.exec<{ key: string }>(NEXT_DUE, Date.now(), 50);
      return { keys: cursor.toArray().map((r) => r.key), rowsRead: cursor.rowsRead };
    };
    const small = await runInDurableObject(batch(), (_o, state) => {
      seed(state.storage.sql, 60, "pending", "p");
      return readNext(state.storage.sql);
    });
    const large = await runInDurableObject(batch(), (_o, state) => {
      seed(state.storage.sql, BIG, "done", "d");
      seed(state.storage.sql, BIG, "pending", "p");
      // One in backoff at the front is passed over, not waited for.
      state.storage.sql.exec("UPDATE items SET next_at = ? WHERE key = 'p-0'", Date.now() + 60_000);
      return readNext(state.storage.sql);
    });
    expect(small.keys).toEqual(Array.from({ length: 50 }, (_, i) => `p-${i}`));
    expect(large.keys).toEqual(Array.from({ length: 50 }, (_, i) => `p-${i + 1}`));
    expect(large.rowsRead).toBeLessThanOrEqual(small.rowsRead + 2);
  });

  it("keeps its counts as recipients come and settle, and counts a batch from before the tally once, from its items", async () => {
    const name = `plan-${crypto.randomUUID()}`;
    await runInDurableObject(batch(name), async (instance, state) => {
      // A batch written before its counts were kept: its items, and no tally.
      seed(state.storage.sql, 30, "done", "d");
      state.storage.sql.exec("UPDATE items SET message_id = NULL WHERE key IN ('d-0', 'd-1')");
      state.storage.sql.exec("UPDATE items SET state = 'failed', message_id = NULL WHERE key = 'd-2'");
      seed(state.storage.sql, 7, "pending", "p");
      state.storage.sql.exec("DELETE FROM meta WHERE key LIKE 'tally:%'");
      expect(await instance.stats()).toEqual({ pending: 0, launched: 0, failed: 0, refused: 0 });
    });
    // The object starts again (a deploy): it counts the items it has once.
    await abortAllDurableObjects();
    const counted = { pending: 7, launched: 27, failed: 1, refused: 2 };
    expect(await batch(name).stats()).toEqual(counted);
    // From then on the counts are kept, not read from the items.
    await runInDurableObject(batch(name), (_o, state) => state.storage.sql.exec("DELETE FROM items WHERE state = 'done'"));
    expect(await batch(name).stats()).toEqual(counted);
  });
});
