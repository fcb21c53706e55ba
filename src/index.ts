import { runCron } from "./cron";
import { createApp } from "./http/app";
import { entryEnv } from "./entry-env";
import { measureCron, metricsRoute } from "./instrumentation";

export { BatchDO } from "./do/batch";
export { ConversationDO } from "./do/conversation";
export { CxoneTokenDO } from "./do/cxone-token";
export { PollerDO } from "./do/poller";
export { SenderDO } from "./do/sender";

const app = createApp();

// Every request and cron run works with entryEnv (src/entry-env.ts): LOG_LEVEL applied, and the
// bench instrumentation only when BENCH_METRICS is "1" — only then does GET/DELETE /__metrics exist.
export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const e = entryEnv(env);
    return metricsRoute(request, e) ?? app.fetch(request, e, ctx);
  },
  scheduled(_controller, env, ctx) {
    const e = entryEnv(env);
    ctx.waitUntil(measureCron(runCron(e)));
  },
} satisfies ExportedHandler<Env>;
