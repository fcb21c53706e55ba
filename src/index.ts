import { runCron } from "./cron";
import { createApp } from "./http/app";
import { instrumentEnv, measureCron, metricsRoute } from "./instrumentation";
import { setLogLevel } from "./log";

export { BatchDO } from "./do/batch";
export { ConversationDO } from "./do/conversation";
export { CxoneTokenDO } from "./do/cxone-token";
export { PollerDO } from "./do/poller";
export { SenderDO } from "./do/sender";

const app = createApp();

// Bench instrumentation (src/instrumentation.ts): the env every request and cron run receives goes
// through instrumentEnv, which returns it untouched unless BENCH_METRICS is "1"; only then does
// GET/DELETE /__metrics exist.
export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    setLogLevel(env.LOG_LEVEL);
    const e = instrumentEnv(env);
    return metricsRoute(request, e) ?? app.fetch(request, e, ctx);
  },
  scheduled(_controller, env, ctx) {
    setLogLevel(env.LOG_LEVEL);
    const e = instrumentEnv(env);
    ctx.waitUntil(measureCron(runCron(e)));
  },
} satisfies ExportedHandler<Env>;
