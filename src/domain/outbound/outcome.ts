import { AppError } from "../../errors";

/**
 * What a failed Twilio send means for the message:
 *  - opted_out: 21610, the recipient unsubscribed — never retry, suppress the number;
 *  - throttled: 429 / 20429 — not sent; wait (Retry-After) and retry through the bucket;
 *  - unknown:   5xx, timeout, network — Twilio may have accepted it; ask before sending again;
 *  - retry:     not sent (401, 408) — retry with backoff;
 *  - failed:    Twilio refused it (other 4xx) — final, reported to CXone with Twilio's code.
 */
export type SendOutcome = "opted_out" | "throttled" | "unknown" | "retry" | "failed";

export function classifySendError(err: unknown): SendOutcome {
  if (!(err instanceof AppError)) return "unknown";
  const code = Number(err.upstreamCode);
  if (code === 21610) return "opted_out";
  if (err.upstreamStatus === 429 || code === 20429) return "throttled";
  if (err.upstreamStatus === undefined || err.upstreamStatus >= 500) return err.retryable ? "unknown" : "failed";
  if (err.retryable) return "retry";
  return "failed";
}
