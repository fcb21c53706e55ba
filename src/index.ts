import { runCron } from "./cron";
import { createApp } from "./http/app";
import { entryEnv } from "./entry-env";

export { BatchDO } from "./do/batch";
export { ConversationDO } from "./do/conversation";
export { CxoneTokenDO } from "./do/cxone-token";
export { PollerDO } from "./do/poller";
export { SenderDO } from "./do/sender";

const app = createApp();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    return app.fetch(request, entryEnv(env), ctx);
  },
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runCron(entryEnv(env)));
  },
} satisfies ExportedHandler<Env>;
