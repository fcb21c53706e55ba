import { DurableObject } from "cloudflare:workers";
import { entryEnv } from "../entry-env";
import { asAppError } from "../errors";
import { log } from "../log";
import { Clock, ensureColumns, Meta } from "./storage";

export interface ObjectSchema {
  /** CREATE TABLE IF NOT EXISTS statements of the object's tables as first released. */
  tables: string;
  /** Columns added since, per table (declaration), added to tables created before them. */
  added?: Record<string, Record<string, string>>;
  /** Statements run once the added columns exist: their indexes, backfills of older rows. */
  finish?: string;
}

/** An alarm whose work failed is tried again this long after. */
const ALARM_RETRY_MS = 30_000;

/**
 * A Durable Object on SQLite storage: its schema set up before any request reaches it, a
 * key/value `meta` table, and the clock its alarm runs on.
 */
export abstract class SqliteObject extends DurableObject<Env> {
  protected readonly sql: SqlStorage;
  protected readonly meta: Meta;
  /** Public for tests, which move it forward to let time pass; not an RPC method. */
  readonly clock: Clock;

  constructor(ctx: DurableObjectState, env: Env, schema: ObjectSchema) {
    super(ctx, entryEnv(env));
    this.sql = ctx.storage.sql;
    this.meta = new Meta(this.sql);
    this.clock = new Clock(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(schema.tables);
      for (const [table, columns] of Object.entries(schema.added ?? {})) ensureColumns(this.sql, table, columns);
      if (schema.finish) this.sql.exec(schema.finish);
    });
  }

  /** A storage transaction; should it roll back, `meta` reads its values from storage again. */
  protected transaction<T>(work: () => T): T {
    try {
      return this.ctx.storage.transactionSync(work);
    } catch (err) {
      this.meta.forget();
      throw err;
    }
  }

  /**
   * Runs an alarm's work so that the object wakes again whatever happens. A throw before the work
   * re-armed its alarm (D1 down, a setting missing) would spend the runtime's few alarm retries
   * and then leave the object asleep for good, its queue with it. So a fallback wake-up is armed
   * first; the work's own re-arm replaces it. Nothing touches storage after a failure: the failure
   * may be the object being reset.
   */
  protected async alarmSafely(kind: string, work: () => Promise<void>): Promise<void> {
    await this.clock.at(Date.now() + ALARM_RETRY_MS);
    try {
      await work();
    } catch (err) {
      log("error", "alarm.failed", { kind, reason: asAppError(err).detail ?? asAppError(err).publicMessage });
    }
  }
}
