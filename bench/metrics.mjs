/**
 * The bridge's bench counters (GET/DELETE /__metrics, only in the bench's entry; see
 * bench/worker/instrumentation.ts) and the emulators' own counts, to cross-check them.
 */
import { json, sleep } from "./lib.mjs";

export function metricsClient(stack, adminToken) {
  const headers = { authorization: `Bearer ${adminToken}` };
  const read = () => json(`${stack.bridgeUrl}/__metrics`, { headers });
  return {
    read,
    reset: () => json(`${stack.bridgeUrl}/__metrics`, { method: "DELETE", headers }),
    /** Waits until nothing moved for `quietMs` (alarms, mirror writes and receipts included), then reads. */
    async settled(quietMs = 1_500, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last = JSON.stringify(strip(await read()));
      let stableSince = Date.now();
      for (;;) {
        await sleep(250);
        const now = await read();
        const key = JSON.stringify(strip(now));
        if (key !== last) {
          last = key;
          stableSince = Date.now();
        } else if (Date.now() - stableSince >= quietMs) return now;
        if (Date.now() > deadline) throw new Error("the bridge did not go quiet");
      }
    },
  };
}

// The request counter moves with every read of /__metrics itself.
const strip = (m) => ({ ...m, since: undefined, workerRequests: undefined });

/** What the emulators saw: CXone calls by route and token requests, Twilio sends. */
export async function emulatorCounts(stack) {
  const cx = await json(`${stack.cxoneUrl}/_emu/stats`);
  const sent = await json(`${stack.twilioUrl}/_emu/messages`);
  const cxoneCalls = Object.values(cx.calls).reduce((s, n) => s + n, 0);
  return { cxoneCalls, cxoneTokens: cx.tokenRequests, cxoneByRoute: cx.calls, twilioSends: sent.length };
}

export function diffCounts(after, before) {
  const byRoute = {};
  for (const [k, v] of Object.entries(after.cxoneByRoute)) if (v - (before.cxoneByRoute[k] ?? 0) > 0) byRoute[k] = v - (before.cxoneByRoute[k] ?? 0);
  return {
    cxoneCalls: after.cxoneCalls - before.cxoneCalls,
    cxoneTokens: after.cxoneTokens - before.cxoneTokens,
    cxoneByRoute: byRoute,
    twilioSends: after.twilioSends - before.twilioSends,
  };
}

/** The bridge's own view of the same traffic, per upstream, from its counters. */
export function bridgeView(m, stack) {
  const hostOf = (url) => new URL(url).host;
  const cx = hostOf(stack.cxoneUrl);
  const tw = hostOf(stack.twilioUrl);
  const routes = Object.entries(m.subrequests.byRoute);
  const sum = (match) => routes.filter(([k]) => match(k)).reduce((s, [, n]) => s + n, 0);
  return {
    cxone: m.subrequests.byHost[cx] ?? 0,
    twilio: m.subrequests.byHost[tw] ?? 0,
    twilioSends: sum((k) => k.startsWith(`POST ${tw}`) && k.endsWith("/Messages.json")),
    twilioLookups: sum((k) => k.startsWith(`GET ${tw}`)),
  };
}
