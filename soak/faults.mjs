/**
 * The faults a soak runs under (rules for emulators/faults.ts, plus a D1 trigger). Each rule is
 * drawn on its own, so the chance that a call meets one of them is 1 − Π(1 − p): about 20% of
 * CXone's API calls (a quarter of its receipts) and 11% of Twilio sends. UPSTREAM_TIMEOUT_MS in the soak's bridge settings is
 * below the delays, so every delayed answer comes after the bridge gave up on it.
 */
import { D1_FAULT_KIND } from "./plan.mjs";

export const UPSTREAM_TIMEOUT_MS = 3_000;
const HANG_MS = 4_000;
/** A receipt refused with this Retry-After is the longest wait the faults impose (see QUIET_S in run.mjs). */
export const LONGEST_RETRY_AFTER_S = 20;

/** One set of CXone faults, on the paths of either dialect: its API, its receipts, its token endpoint. */
function cxoneRules({ api, receipts, token }) {
  return [
    // A receipt held back for a long Retry-After: a report queued behind it must wait too, in order.
    { method: "PUT", path: receipts, kind: "rate_limit", retryAfterSec: LONGEST_RETRY_AFTER_S, probability: 0.05 },
    { path: api, kind: "status", status: 503, probability: 0.05 },
    { path: api, kind: "rate_limit", retryAfterSec: 1, probability: 0.04 },
    { path: api, kind: "timeout", delayMs: HANG_MS, probability: 0.03 },
    // A token revoked under the bridge's feet: 401, then one refresh and a retry.
    { path: api, kind: "unauthorized", probability: 0.04 },
    // Done, and the answer lost: the retry must not make a second conversation or message.
    { path: api, kind: "lost", probability: 0.03 },
    { path: api, kind: "lost_timeout", delayMs: HANG_MS, probability: 0.02 },
    { path: token, kind: "status", status: 502, probability: 0.05 },
  ];
}
export const cxoneFaults = cxoneRules({ api: "^/api/v2/", receipts: "^/api/v2/open-messaging/messages/", token: "^/auth/token" });
/**
 * The same faults in DFO mode (contract §8): channel messages, status updates, temporary attachments
 * and contact status are all under /dfo/3.0/; the token endpoint is CXone's password grant.
 */
export const dfoFaults = cxoneRules({ api: "^/dfo/3\\.0/", receipts: "^/dfo/3\\.0/channels/[^/]+/messages/[^/]+/status$", token: "^/auth/token" });

const SEND = "/Messages\\.json$";
export const twilioFaults = [
  { method: "POST", path: SEND, kind: "status", status: 500, probability: 0.03 },
  { method: "POST", path: SEND, kind: "rate_limit", retryAfterSec: 1, body: { code: 20429, message: "Too Many Requests", status: 429 }, probability: 0.03 },
  // Accepted by Twilio, and the answer lost: the bridge must ask Twilio, not send again.
  { method: "POST", path: SEND, kind: "lost", probability: 0.025 },
  { method: "POST", path: SEND, kind: "lost_timeout", delayMs: HANG_MS, probability: 0.015 },
  // Committed only after the bridge gave up: "not in Twilio's list" right after the attempt is no
  // proof the SMS was not sent (the bridge's LOST_ANSWER_GRACE_MS must outlast this).
  { method: "POST", path: SEND, kind: "slow_commit", delayMs: 5_000, probability: 0.02 },
];

/** Status callbacks as carriers make them: repeated, late, and some never (left to the reconciler). */
export const callbackFaults = { duplicate: 0.3, reorder: 0.2, drop: 0.1 };

/** Within this long of a planned text's arrival, every D1 write of its row fails. */
const D1_FAULT_WINDOW_MS = 2_500;
const NOW_MS = "((julianday('now') - 2440587.5) * 86400000.0)";
const FAULTED = `NEW.direction = 'inbound' AND NEW.message_sid LIKE 'SM${D1_FAULT_KIND}%'`;

/**
 * Installed in the soak's local D1 before the Worker starts: the bridge writes an inbound text's
 * D1 row as the webhook arrives (created_at = that moment) and repairs a failed write about 5 s
 * later, when the trigger has stopped firing. A rollback takes any record of the failure with it,
 * so the evidence is the row's insert time instead: `soak_d1_late` notes when each planned row
 * finally got in, which is at least the window after arrival only if the writes before failed.
 */
export const d1Faults = [
  `CREATE TABLE soak_d1_late (message_sid TEXT PRIMARY KEY, created_at INTEGER NOT NULL, inserted_at REAL NOT NULL)`,
  `CREATE TRIGGER soak_fail_first_write BEFORE INSERT ON messages WHEN ${FAULTED} AND ${NOW_MS} < NEW.created_at + ${D1_FAULT_WINDOW_MS} BEGIN SELECT RAISE(ABORT, 'soak: injected D1 failure'); END`,
  `CREATE TRIGGER soak_d1_late_insert AFTER INSERT ON messages WHEN ${FAULTED} BEGIN INSERT OR IGNORE INTO soak_d1_late VALUES (NEW.message_sid, NEW.created_at, ${NOW_MS}); END`,
];
export const D1_EVIDENCE_SQL = "SELECT message_sid AS sid, inserted_at - created_at AS lateMs FROM soak_d1_late";
export const D1_FAULT_LOG = "soak: injected D1 failure";
