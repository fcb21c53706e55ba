import { log } from "./log";

/**
 * The Cron Trigger: poll CXone for agent replies (and, as later steps land, reconcile and close
 * idle proactive threads). Each job is independent: one failing never stops the others.
 */
export async function runCron(env: Env): Promise<void> {
  const jobs: [string, () => Promise<unknown>][] = [["poll", () => env.POLLER.getByName("poller").tick()]];
  const results = await Promise.allSettled(jobs.map(([, job]) => job()));
  results.forEach((result, i) => {
    if (result.status === "rejected") log("error", "cron.failed", { kind: jobs[i]![0], reason: String(result.reason).slice(0, 200) });
  });
}
