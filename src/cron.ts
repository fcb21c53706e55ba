import { cxonePort } from "./adapters/cxone/port";
import { requireConfig } from "./config";
import { reconcileDeps, retentionDeps } from "./deps";
import { reconcile } from "./domain/reconcile";
import { runRetention } from "./domain/retention";

/** Retention gets this much of a tick at most; what is left waits for the next one. */
const RETENTION_BUDGET_MS = 15_000;
import { log } from "./log";

/**
 * The Cron Trigger: poll CXone for agent replies, reconcile (lost callbacks, failed reports,
 * stuck messages, idle proactive threads) and delete what is past retention. Each job is
 * independent: one failing never stops the others.
 */
export async function runCron(env: Env): Promise<void> {
  const config = requireConfig(env);
  const jobs: [string, () => Promise<unknown>][] = [
    // Only open-messaging has a feed of replies to poll; in DFO mode CXone calls for each one.
    ...(cxonePort(env).pollsReplies ? ([["poll", () => env.POLLER.getByName("poller").tick()]] as [string, () => Promise<unknown>][]) : []),
    ["reconcile", () => reconcile(reconcileDeps(env, config), { now: Date.now(), recheckMs: config.RECONCILE_AFTER_MINUTES * 60_000 })],
    ["retention", () => runRetention(retentionDeps(env), { now: Date.now(), days: config.RETENTION_DAYS, budgetMs: RETENTION_BUDGET_MS })],
  ];
  const results = await Promise.allSettled(jobs.map(([, job]) => job()));
  results.forEach((result, i) => {
    if (result.status === "rejected") log("error", "cron.failed", { kind: jobs[i]![0], reason: String(result.reason).slice(0, 200) });
  });
}
