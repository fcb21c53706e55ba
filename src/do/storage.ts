import { asAppError } from "../errors";
import { log } from "../log";

/**
 * A key/value table in a Durable Object's SQLite storage, read through a cache: only this object
 * writes its storage, and only through here, so a value read once is known until it is changed
 * here. (A profile of the inbound path found a SELECT per read a twentieth of the CPU: a sender
 * reads its bucket and its key for every send.)
 */
export class Meta {
  private readonly known = new Map<string, string | null>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  get(key: string): string | null {
    if (this.known.has(key)) return this.known.get(key)!;
    const value = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
    this.known.set(key, value);
    return value;
  }

  set(key: string, value: string): void {
    // Most passes re-save what they read: a write only when something changed.
    if (this.known.get(key) === value) return;
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
    this.known.set(key, value);
  }

  delete(key: string): void {
    this.sql.exec("DELETE FROM meta WHERE key = ?", key);
    this.known.set(key, null);
  }

  clear(): void {
    this.sql.exec("DELETE FROM meta");
    this.known.clear();
  }

  /** After a transaction that rolled back: what was written in it is read from storage again. */
  forget(): void {
    this.known.clear();
  }
}

/**
 * Adds columns a newer version of an object's schema has to a table created by an older one
 * (CREATE TABLE IF NOT EXISTS leaves an existing table as it was).
 */
export function ensureColumns(sql: SqlStorage, table: string, columns: Record<string, string>): void {
  const have = new Set(sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).toArray().map((c) => c.name));
  for (const [name, decl] of Object.entries(columns)) if (!have.has(name)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${decl}`);
}

/**
 * An object's clock and alarm. `now()` is the wall clock, never earlier than a time the clock
 * was moved to: tests move it to an alarm's time and run the alarm, which is how they let time
 * pass without sleeping. Production code never moves it.
 */
export class Clock {
  private floor = 0;

  constructor(private readonly storage: DurableObjectStorage) {}

  now(): number {
    return Math.max(Date.now(), this.floor);
  }

  skipTo(at: number): void {
    this.floor = Math.max(this.floor, at);
  }

  /** Arms the alarm for `at` unless it is already due sooner. */
  async soon(at: number): Promise<void> {
    const current = await this.storage.getAlarm();
    if (current === null || current > at) await this.at(at);
  }

  /**
   * Arms the alarm for `at`, or clears it. Never at or before the present: an alarm handler that
   * re-arms for the very time it was scheduled at has its alarm cleared when it returns (workerd
   * takes it for the one that just ran) and the object would never wake again.
   */
  async at(at: number | undefined): Promise<void> {
    if (at === undefined || !Number.isFinite(at)) {
      await this.storage.deleteAlarm();
      return;
    }
    const target = Math.max(at, Date.now() + 1);
    // A busy object re-arms for the same moment pass after pass (a thread's next mirror write).
    if ((await this.storage.getAlarm()) === target) return;
    await this.storage.setAlarm(target);
  }
}

/**
 * Rows an object keeps with `version`/`synced_version` have a mirror in D1; this writes the
 * mirror of every row that is behind (the oldest 100) in one write, or none of them: D1 being
 * down is retried on the next run; the object's own copy is the truth meanwhile. Answers how many
 * rows it wrote, or false when the write failed.
 */
export async function syncDirty<R extends { version: number; [key: string]: SqlStorageValue }>(
  sql: SqlStorage,
  table: string,
  key: string,
  write: (rows: R[]) => Promise<void>,
): Promise<number | false> {
  const dirty = sql.exec<R>(`SELECT * FROM ${table} WHERE synced_version < version ORDER BY seq LIMIT 100`).toArray();
  if (dirty.length === 0) return 0;
  try {
    await write(dirty);
  } catch (err) {
    log("warn", "d1.retry", { kind: table, reason: asAppError(err).detail });
    return false;
  }
  markSynced(sql, table, key, dirty.map((row) => [row[key] as string, row.version]));
  return dirty.length;
}

/** Marks rows (key, the version D1 got) as mirrored, in one statement; a newer version stays dirty. */
export function markSynced(sql: SqlStorage, table: string, key: string, written: [id: string, version: number][]): void {
  sql.exec(
    // Qualified: json_each has an "id" column of its own.
    `UPDATE ${table} SET synced_version = w.value ->> 1 FROM json_each(?) AS w WHERE ${table}.${key} = w.value ->> 0 AND ${table}.synced_version < w.value ->> 1`,
    JSON.stringify(written),
  );
}

export function hasDirty(sql: SqlStorage, table: string): boolean {
  return sql.exec(`SELECT 1 FROM ${table} WHERE synced_version < version LIMIT 1`).toArray().length > 0;
}
