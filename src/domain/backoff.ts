export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  maxAttempts: number;
}

/**
 * Delay before retry number `attempt` (1 = the first retry): exponential with "equal jitter",
 * so a crowd of failures spreads out yet no retry comes back at once. An upstream Retry-After
 * is a floor, even above the cap: CXone and Twilio said when to come back.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

export function policyFrom(config: { RETRY_BASE_MS: number; RETRY_CAP_MS: number; RETRY_MAX_ATTEMPTS: number }): BackoffPolicy {
  return { baseMs: config.RETRY_BASE_MS, capMs: config.RETRY_CAP_MS, maxAttempts: config.RETRY_MAX_ATTEMPTS };
}
