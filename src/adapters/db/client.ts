import { drizzle } from "drizzle-orm/d1";
import { instrumentD1 } from "../../instrumentation";
import * as schema from "./schema";

export type Db = ReturnType<typeof database>;

export function database(d1: D1Database) {
  // Every drizzle instance is made here: the one place D1 use is counted when BENCH_METRICS is
  // "1" (src/instrumentation.ts); otherwise instrumentD1 hands the binding back as it is.
  return drizzle(instrumentD1(d1), { schema });
}
