import { DurableObject } from "cloudflare:workers";
import { entryEnv } from "../entry-env";
import { Clock, Meta } from "./storage";

/**
 * A Durable Object on SQLite storage: its schema set up before any request reaches it, a
 * key/value `meta` table, and the clock its alarm runs on.
 */
export abstract class SqliteObject extends DurableObject<Env> {
  protected readonly sql: SqlStorage;
  protected readonly meta: Meta;
  /** Public for tests, which move it forward to let time pass; not an RPC method. */
  readonly clock: Clock;

  constructor(ctx: DurableObjectState, env: Env, schema: string) {
    super(ctx, entryEnv(env));
    this.sql = ctx.storage.sql;
    this.meta = new Meta(this.sql);
    this.clock = new Clock(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(schema);
    });
  }
}
