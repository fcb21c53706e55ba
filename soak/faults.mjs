/**
 * The faults a soak runs under (rules for emulators/faults.ts). Each rule is drawn on its own, so
 * the chance that a call meets one of them is 1 − Π(1 − p): about 20% of CXone's API calls and
 * 10% of Twilio sends. UPSTREAM_TIMEOUT_MS in the soak's bridge settings is below the delays.
 */
export const UPSTREAM_TIMEOUT_MS = 3_000;
const HANG_MS = 4_000;

const CXONE_API = "^/api/v2/";
export const cxoneFaults = [
  { path: CXONE_API, kind: "status", status: 503, probability: 0.05 },
  { path: CXONE_API, kind: "rate_limit", retryAfterSec: 1, probability: 0.04 },
  { path: CXONE_API, kind: "timeout", delayMs: HANG_MS, probability: 0.03 },
  // A token revoked under the bridge's feet: 401, then one refresh and a retry.
  { path: CXONE_API, kind: "unauthorized", probability: 0.04 },
  // Done, and the answer lost: the retry must not make a second conversation or message.
  { path: CXONE_API, kind: "lost", probability: 0.03 },
  { path: CXONE_API, kind: "lost_timeout", delayMs: HANG_MS, probability: 0.02 },
  { path: "^/auth/token", kind: "status", status: 502, probability: 0.05 },
];

const SEND = "/Messages\\.json$";
export const twilioFaults = [
  { method: "POST", path: SEND, kind: "status", status: 500, probability: 0.03 },
  { method: "POST", path: SEND, kind: "rate_limit", retryAfterSec: 1, body: { code: 20429, message: "Too Many Requests", status: 429 }, probability: 0.03 },
  // Accepted by Twilio, and the answer lost: the bridge must ask Twilio, not send again.
  { method: "POST", path: SEND, kind: "lost", probability: 0.025 },
  { method: "POST", path: SEND, kind: "lost_timeout", delayMs: HANG_MS, probability: 0.015 },
];

/** Status callbacks as carriers make them: repeated, late, and some never (left to the reconciler). */
export const callbackFaults = { duplicate: 0.3, reorder: 0.2, drop: 0.1 };
