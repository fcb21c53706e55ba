import { setLogLevel } from "./log";

/** The env an entry point of the isolate (the Worker's handlers, each Durable Object) works with: its LOG_LEVEL applied. */
export function entryEnv(env: Env): Env {
  setLogLevel(env.LOG_LEVEL);
  return env;
}
