import type { z } from "zod";
import { AppError } from "../errors";

export type Upstream = "twilio" | "cxone";

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * fetch with a deadline. A network failure or timeout is a retryable AppError whose outcome
 * is unknown (the upstream may have committed), which callers that must not repeat a side
 * effect check before retrying.
 */
export async function fetchUpstream(upstream: Upstream, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    throw new AppError(503, `${upstream}_unreachable`, `${upstream} could not be reached`, {
      detail: timedOut ? `timeout after ${timeoutMs} ms` : err instanceof Error ? err.message : String(err),
      retryable: true,
      cause: err,
    });
  }
}

/**
 * Maps a non-2xx answer to an AppError. 408/429/5xx are retryable, and so is 401: credentials
 * being rotated or fixed are an operator's minutes away, a dead letter is forever. Other 4xx are not.
 */
export async function upstreamFailure(upstream: Upstream, res: Response, what: string): Promise<AppError> {
  let code: string | number | undefined;
  let message: string | undefined;
  let parsed: unknown;
  try {
    parsed = await res.json();
    const body = parsed as { code?: string | number; message?: string; error?: string };
    code = body.code ?? body.error;
    message = typeof body.message === "string" ? body.message : undefined;
  } catch {
    // Not JSON; the status says enough.
  }
  const retryable = res.status === 401 || res.status === 408 || res.status === 429 || res.status >= 500;
  return new AppError(retryable ? 503 : 502, `${upstream}_error`, `${upstream} refused ${what}`, {
    detail: `${what}: HTTP ${res.status}${code !== undefined ? ` code ${code}` : ""}${message ? ` (${message.slice(0, 120)})` : ""}`,
    retryable,
    retryAfterMs: parseRetryAfter(res.headers.get("retry-after")),
    upstreamStatus: res.status,
    upstreamCode: typeof code === "string" || typeof code === "number" ? code : undefined,
    upstreamBody: parsed,
  });
}

/** Parses an upstream JSON answer with its schema; a surprise shape is a retryable upstream fault. */
export async function parseUpstream<T extends z.ZodType>(upstream: Upstream, res: Response, schema: T, what: string): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new AppError(502, `${upstream}_bad_answer`, `${upstream} answered ${what} unexpectedly`, {
      detail: `${what}: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
      retryable: true,
    });
  }
  return parsed.data;
}
