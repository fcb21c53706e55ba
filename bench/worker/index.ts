import * as product from "../../src/index";
import { drainable, drainRoute } from "./drain";
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
    return metricsRoute(request, e) ?? drainRoute(request, e) ?? product.default.fetch(request, e, ctx);
  },
  scheduled(controller, env, ctx) {
    const timed = { waitUntil: (p: Promise<unknown>) => ctx.waitUntil(measureCron(p)), passThroughOnException: () => ctx.passThroughOnException(), props: ctx.props } as ExecutionContext;
    return product.default.scheduled(controller, instrumentEnv(env), timed);
  },
} satisfies ExportedHandler<Env>;

// `any[]`: the only constructor shape TypeScript accepts for a class made from a class.
type ObjectClass = new (...args: any[]) => { alarm?(info?: AlarmInvocationInfo): void | Promise<void> };

/** The product's object class with a counting env, and its alarms counted (an alarm is a request to it too). */
function counted<T extends ObjectClass>(Base: T, name: string): T {
  return class extends Base {
    constructor(...args: any[]) {
      super(args[0] as DurableObjectState, instrumentEnv(args[1] as Env));
    }
    override async alarm(info?: AlarmInvocationInfo) {
      noteAlarm(name);
      await super.alarm?.(info);
    }
  };
}

export const ConversationDO = counted(product.ConversationDO, "ConversationDO");
export const SenderDO = drainable(counted(product.SenderDO, "SenderDO"));
export const BatchDO = counted(product.BatchDO, "BatchDO");
export const PollerDO = counted(product.PollerDO, "PollerDO");
export const CxoneTokenDO = counted(product.CxoneTokenDO, "CxoneTokenDO");
