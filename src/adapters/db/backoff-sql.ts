import { sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/**
 * SQL for "the next try of a row that has failed `attempts` times so far": `baseMs` doubled per
 * attempt, at most `capMs`, from `now`. Written into the claim itself, so a row's next try has
 * moved forward before anyone tries it (contract §10: whatever the try does, the row falls behind).
 */
export function nextTryAt(now: number, attempts: SQLiteColumn, baseMs: number, capMs: number): SQL {
  return sql`${now} + min(${capMs}, ${baseMs} * (1 << min(${attempts}, 20)))`;
}
