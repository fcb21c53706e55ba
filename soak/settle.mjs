/**
 * When to judge a soak run. Not at the first moment everything looks right: a duplicate send or
 * a report after the final one can still be on its way then. First the workload drains (nothing
 * outstanding, or the timeout), then the emulators must stay unchanged for a whole quiet period —
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
 *           signal?: AbortSignal }} opts
 * @returns the state read at the end of the quiet period, when it drained and how long it was quiet
 */
export async function settle({ snapshot, outstanding, deadline, quietMs, signal }) {
  let state = await snapshot();
  let left = outstanding(state);
  while (left > 0 && Date.now() <= deadline) {
    await sleep(2_000, signal);
    state = await snapshot();
    left = outstanding(state);
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
  return { state, outstanding: outstanding(state), drainedAt, quietMs: Date.now() - since, quiet: Date.now() - since >= quietMs };
}
