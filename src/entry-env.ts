import { instrumentEnv } from "./instrumentation";
import { setLogLevel } from "./log";

/**
 * The env an entry point of the isolate (the Worker's handlers, each Durable Object) works with:
 * its LOG_LEVEL applied, and — only when BENCH_METRICS is "1" — counted by the bench
 * instrumentation (src/instrumentation.ts); otherwise the same object.
 */
export function entryEnv(env: Env): Env {
  setLogLevel(env.LOG_LEVEL);
  return instrumentEnv(env);
}
