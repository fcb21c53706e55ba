import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { headOf, SCREEN_BATCH, SEND_PATH } from "../../src/do/sender-queue";
import { sender } from "../support/outbound";

/**
 * A send must cost the same with 100 or 100,000 messages waiting (issue 12, goal 4). Read from
 * SQLite itself: the send path's statements are index searches, never a scan of the queue, and
 * picking the next message reads a handful of rows whatever the backlog — also when the backlog
 * is deferred (quiet hours) and the one due message is the newest.
 */
const BACKLOG = 3_000;
const FUTURE = Date.now() + 86_400_000;

function seed(sql: SqlStorage, n: number, notBefore: number, prefix: string) {
  for (let i = 0; i < n; i++) {
    sql.exec(
      "INSERT INTO queue (id, conversation_id, created_time, created_ms, enqueued_at, not_before, cost, payload, state) VALUES (?, ?, '', ?, 0, ?, 1, '{}', 'queued')",
      `${prefix}-${i}`,
      `conv-${prefix}-${i % 1000}`,
      i,
      notBefore,
    );
  }
}

describe("the sender's send path against a large backlog", () => {
  it("plans every statement as an index search (no SCAN of queue or heads)", async () => {
    await runInDurableObject(sender("+15550009101"), async (_o, state) => {
      const sql = state.storage.sql;
      seed(sql, 200, FUTURE, "plan");
      const statements: [string, string][] = [...Object.entries(SEND_PATH), ["headOf", headOf("'conv-plan-1'")]];
      const plans = statements.map(([name, statement]): [string, string[]] => [
        name,
        sql.exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement}`, ...(statement.includes("?") ? [0] : [])).toArray().map((r) => r.detail),
      ]);
      for (const [name, lines] of plans) {
        expect(lines.length, name).toBeGreaterThan(0);
        for (const line of lines) expect(line, `${name}: ${lines.join(" | ")}`).not.toMatch(/^SCAN (q|queue|h|heads|b|e)\b/);
      }
    });
  });

  it("picks the one due message behind thousands of deferred ones reading a few rows, the same as with none", async () => {
    await runInDurableObject(sender("+15550009102"), async (_o, state) => {
      const sql = state.storage.sql;
      const read = () => {
        const cursor = sql.exec<{ id: string }>(SEND_PATH.head, Date.now());
        const rows = cursor.toArray();
        return { id: rows[0]?.id, rowsRead: cursor.rowsRead };
      };
      seed(sql, 1, 0, "alone");
      const alone = read();
      expect(alone.id).toBe("alone-0");
      sql.exec("DELETE FROM queue");
      seed(sql, BACKLOG, FUTURE, "deferred");
      seed(sql, 1, 0, "due");
      const behind = read();
      expect(behind.id).toBe("due-0");
      expect(behind.rowsRead).toBeLessThanOrEqual(alone.rowsRead + 2);
      const next = sql.exec<{ at: number }>(SEND_PATH.nextHeadAt);
      expect(next.one().at).toBeLessThanOrEqual(Date.now());
      expect(next.rowsRead).toBeLessThanOrEqual(4);
    });
  });

  it("runs every send-path statement reading a few rows behind thousands of queued ones", async () => {
    await runInDurableObject(sender("+15550009104"), async (_o, state) => {
      const sql = state.storage.sql;
      seed(sql, BACKLOG, 0, "due");
      seed(sql, BACKLOG, FUTURE, "deferred");
      sql.exec("UPDATE queue SET ready_at = 1 WHERE id = 'due-0'");
      for (const [name, statement] of Object.entries(SEND_PATH)) {
        const cursor = sql.exec(statement, ...(statement.includes("?") ? [name === "dropOtherReservations" ? "due-1" : Date.now()] : []));
        cursor.toArray();
        // A plan that searches the wrong index reads every queued row: 6,000 here. nextHeads reads
        // its SCREEN_BATCH heads and their rows.
        expect(cursor.rowsRead, name).toBeLessThanOrEqual(name === "nextHeads" ? 2 * SCREEN_BATCH + 10 : 10);
      }
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue WHERE ready_at IS NOT NULL").one().n).toBe(0);
    });
  });

  it("keeps each conversation's head exact through sends, retries and deletions (the triggers)", async () => {
    await runInDurableObject(sender("+15550009103"), async (_o, state) => {
      const sql = state.storage.sql;
      const heads = () => sql.exec<{ conversation_id: string; id: string; blocked: number }>("SELECT conversation_id, id, blocked FROM heads ORDER BY conversation_id").toArray();
      const insert = (id: string, conv: string, createdMs: number) =>
        sql.exec("INSERT INTO queue (id, conversation_id, created_time, created_ms, enqueued_at, not_before, cost, payload, state) VALUES (?, ?, '', ?, 0, 0, 1, '{}', 'queued')", id, conv, createdMs);
      insert("b", "c1", 20);
      insert("a", "c1", 10); // created earlier, pushed later: it is the head
      insert("x", "c2", 5);
      expect(heads()).toEqual([{ conversation_id: "c1", id: "a", blocked: 0 }, { conversation_id: "c2", id: "x", blocked: 0 }]);
      sql.exec("UPDATE queue SET state = 'inflight' WHERE id = 'a'");
      expect(heads()[0]).toEqual({ conversation_id: "c1", id: "b", blocked: 1 });
      sql.exec("UPDATE queue SET state = 'unknown' WHERE id = 'a'");
      expect(heads()[0]).toEqual({ conversation_id: "c1", id: "b", blocked: 1 });
      sql.exec("UPDATE queue SET state = 'queued' WHERE id = 'a'"); // a resend after a lost answer
      expect(heads()[0]).toEqual({ conversation_id: "c1", id: "a", blocked: 0 });
      sql.exec("UPDATE queue SET state = 'done' WHERE id = 'a'");
      expect(heads()[0]).toEqual({ conversation_id: "c1", id: "b", blocked: 0 });
      sql.exec("DELETE FROM queue WHERE id = 'x'");
      sql.exec("UPDATE queue SET state = 'failed' WHERE id = 'b'");
      expect(heads()).toEqual([]);
    });
  });
});
