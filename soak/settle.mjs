/**
 * When to judge a soak run. Not at the first moment everything looks right: a duplicate send or
 * a report after the final one can still be on its way then. First the workload drains (nothing
 * outstanding, or the timeout, or nothing changed at all for a long while with messages still
 * outstanding: stalled), then the emulators must stay unchanged for a whole quiet period —
 * no new SMS at Twilio, no new CXone conversation, message or report — which starts over at every
 * change; only then is the state read, once, for the verdict.
 */
import { sleep } from "./drive.mjs";

/** Everything the bridge can still change at the emulators, as one comparable value. */
function fingerprint(s) {
  const messages = s.conversations.reduce((n, c) => n + c.messages.length, 0);
  const reports = Object.values(s.reports).reduce((n, list) => n + list.length, 0);
  return `${s.sent.length} ${s.conversations.length} ${messages} ${reports}`;
}

/**
 * @param {{ snapshot: () => Promise<object>, outstanding: (s: object) => number, deadline: number, quietMs: number,
 *           stallMs?: number, signal?: AbortSignal }} opts
 * `stallMs`: stop waiting for what is outstanding once nothing at all has changed for this long
 * (a message the bridge has given up on without saying so would otherwise hold the run to the
 * deadline); it must outlast the longest silent wait the bridge may rightly make, which quietMs
 * already covers (default 2 × quietMs).
 * @returns the state read at the end of the quiet period, when it drained (or stalled) and how long it was quiet
 */
export async function settle({ snapshot, outstanding, deadline, quietMs, stallMs = 2 * quietMs, signal }) {
  let state = await snapshot();
  let left = outstanding(state);
  let seen = `${fingerprint(state)} ${left}`;
  let changedAt = Date.now();
  let stalled = false;
  while (left > 0 && Date.now() <= deadline) {
    await sleep(2_000, signal);
    state = await snapshot();
    left = outstanding(state);
    const now = `${fingerprint(state)} ${left}`;
    if (now !== seen) [seen, changedAt] = [now, Date.now()];
    else if (Date.now() - changedAt >= stallMs) {
      stalled = true;
      break;
    }
  }
  const drainedAt = Date.now();

  // A bridge that never stops changing things is a finding too: give up after a few quiet lengths.
  const giveUpAt = Date.now() + 4 * quietMs;
  let last = fingerprint(state);
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() < giveUpAt) {
    await sleep(1_000, signal);
    state = await snapshot();
    const now = fingerprint(state);
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return { state, outstanding: outstanding(state), drainedAt, stalled, stallMs, quietMs: Date.now() - since, quiet: Date.now() - since >= quietMs };
}
