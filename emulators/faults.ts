import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";

/**
 * Fault injection shared by the emulators. A rule matches requests by method and path; it can
 * fire for a number of matches (`times`) or at random (`probability`), optionally skipping the
 * first `after` matches. Kinds:
 *  - status:  answer `status` (e.g. 503) without doing anything;
 *  - rate_limit: 429 with Retry-After (`retryAfterSec`), nothing done;
 *  - unauthorized: 401, nothing done (a revoked token);
 *  - timeout: wait `delayMs` then answer 504, nothing done (the client should have given up);
 *  - lost: do the work (commit), then answer 500 — the answer is lost after commit;
 *  - lost_timeout: do the work, then wait `delayMs` before answering;
 *  - slow_commit: wait `delayMs`, then do the work and answer normally — a request that commits
 *    after a client with a shorter timeout gave up on it, so the client never saw the answer.
 *
 * `onAnswerLost` (optional) is told about each request whose work was done but whose answer the
 * client will not see (lost, lost_timeout), so an emulator can mark what that request recorded.
 */
export const FaultRule = z.object({
  method: z.string().optional(),
  path: z.string().describe("regular expression matched against the path"),
  kind: z.enum(["status", "rate_limit", "unauthorized", "timeout", "lost", "lost_timeout", "slow_commit"]),
  status: z.number().int().min(400).max(599).optional(),
  body: z.record(z.string(), z.unknown()).optional(),
  retryAfterSec: z.number().min(0).optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  times: z.number().int().min(1).optional(),
  probability: z.number().min(0).max(1).optional(),
  after: z.number().int().min(0).optional(),
});
export type FaultRule = z.infer<typeof FaultRule>;

interface ActiveRule {
  rule: FaultRule;
  pattern: RegExp;
  seen: number;
  fired: number;
}

export class Faults {
  private rules: ActiveRule[] = [];
  /** How many times each kind fired, for the soak's report. */
  readonly fired: Record<string, number> = {};
  /** Requests being answered now, and the most there ever were at once (what a client keeps open). */
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly random: () => number = Math.random) {}

  add(...rules: FaultRule[]): void {
    for (const rule of rules) this.rules.push({ rule: FaultRule.parse(rule), pattern: new RegExp(rule.path), seen: 0, fired: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((r) => r.rule);
  }

  /** The rule that fires for this request, if any (consumes one of its `times`). */
  pick(method: string, path: string): FaultRule | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!active.pattern.test(path)) continue;
      active.seen += 1;
      if (rule.after !== undefined && active.seen <= rule.after) continue;
      if (rule.times !== undefined && active.fired >= rule.times) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      active.fired += 1;
      this.fired[rule.kind] = (this.fired[rule.kind] ?? 0) + 1;
      return rule;
    }
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Hono middleware applying the faults to every request except the emulator's own /_emu routes. */
export function faultMiddleware(faults: Faults, onAnswerLost?: (c: Context) => void): MiddlewareHandler {
  return async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (path.startsWith("/_emu")) return next();
    faults.maxInFlight = Math.max(faults.maxInFlight, ++faults.inFlight);
    try {
      return await applyFault(faults, c, next, path, onAnswerLost);
    } finally {
      faults.inFlight -= 1;
    }
  };
}

async function applyFault(faults: Faults, c: Context, next: () => Promise<void>, path: string, onAnswerLost?: (c: Context) => void): Promise<Response | void> {
  const rule = faults.pick(c.req.method, path);
  if (!rule) return next();
  switch (rule.kind) {
    case "status":
      return c.json(rule.body ?? { error: "injected", message: `injected ${rule.status ?? 503}` }, (rule.status ?? 503) as 503);
    case "rate_limit":
      return c.json(rule.body ?? { code: 20429, message: "Too Many Requests" }, 429, { "retry-after": String(rule.retryAfterSec ?? 1) });
    case "unauthorized":
      return c.json({ error: "invalid_token", message: "token revoked" }, 401);
    case "timeout":
      await sleep(rule.delayMs ?? 30_000);
      return c.json({ error: "timeout" }, 504);
    case "lost":
      await next();
      onAnswerLost?.(c);
      c.res = c.json({ error: "injected", message: "answer lost after commit" }, 500);
      return;
    case "lost_timeout":
      await next();
      onAnswerLost?.(c);
      await sleep(rule.delayMs ?? 30_000);
      return;
    case "slow_commit":
      await sleep(rule.delayMs ?? 30_000);
      await next();
      return;
  }
}
