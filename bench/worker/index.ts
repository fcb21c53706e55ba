import * as product from "../../src/index";
import { instrumentEnv, measureCron, metricsRoute, noteAlarm, noteSubrequest } from "./instrumentation";

/**
 * The bench's Worker (`npm run bench`, stack B: `wrangler dev bench/worker/index.ts` with the
 * product's wrangler.toml): the product Worker and its Durable Object classes, unchanged, with
 * the cost counters of ./instrumentation.ts wrapped around them — env, D1, object stubs, alarms,
 * outbound fetch — and GET/DELETE /__metrics to read them. Nothing of this ships with `src/`.
 */
const realFetch = globalThis.fetch;
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const request = input instanceof Request ? input : undefined;
  noteSubrequest(request ? request.url : String(input), init?.method ?? request?.method);
  return realFetch(input, init);
};

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const e = instrumentEnv(env);
    return metricsRoute(request, e) ?? product.default.fetch(request, e, ctx);
  },
  scheduled(controller, env, ctx) {
    const timed = { waitUntil: (p: Promise<unknown>) => ctx.waitUntil(measureCron(p)), passThroughOnException: () => ctx.passThroughOnException(), props: ctx.props } as ExecutionContext;
    return product.default.scheduled(controller, instrumentEnv(env), timed);
  },
} satisfies ExportedHandler<Env>;

// An object's alarm is a request to it too: counted, then the product's own handler runs.
export class ConversationDO extends product.ConversationDO {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
  }
  override alarm() {
    noteAlarm("ConversationDO");
    return super.alarm();
  }
}

export class SenderDO extends product.SenderDO {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
  }
  override alarm() {
    noteAlarm("SenderDO");
    return super.alarm();
  }
}

export class BatchDO extends product.BatchDO {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
  }
  override alarm() {
    noteAlarm("BatchDO");
    return super.alarm();
  }
}

export class PollerDO extends product.PollerDO {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
  }
}

export class CxoneTokenDO extends product.CxoneTokenDO {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, instrumentEnv(env));
  }
}
