import { runCron } from "./cron";
import { createApp } from "./http/app";

export { BatchDO } from "./do/batch";
export { ConversationDO } from "./do/conversation";
export { CxoneTokenDO } from "./do/cxone-token";
export { PollerDO } from "./do/poller";
export { SenderDO } from "./do/sender";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runCron(env));
  },
} satisfies ExportedHandler<Env>;
