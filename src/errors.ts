/**
 * The one error type of the bridge. `publicMessage` is what a client may read; `detail` is for
 * the logs (never a body, a number or a secret). `retryable` marks upstream trouble that a
 * durable retry may cure; `retryAfterMs` carries an upstream Retry-After.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly publicMessage: string;
  readonly detail?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly upstreamStatus?: number;
  readonly upstreamCode?: string | number;
  /** The upstream's error body, parsed, for code that must tell its answers apart; never logged. */
  readonly upstreamBody?: unknown;

  constructor(
    status: number,
    code: string,
    publicMessage: string,
    opts: {
      detail?: string;
      retryable?: boolean;
      retryAfterMs?: number;
      upstreamStatus?: number;
      upstreamCode?: string | number;
      upstreamBody?: unknown;
      cause?: unknown;
    } = {},
  ) {
    super(opts.detail ? `${code}: ${opts.detail}` : `${code}: ${publicMessage}`, { cause: opts.cause });
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.publicMessage = publicMessage;
    this.detail = opts.detail;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.upstreamStatus = opts.upstreamStatus;
    this.upstreamCode = opts.upstreamCode;
    this.upstreamBody = opts.upstreamBody;
  }
}

export const badRequest = (code: string, message: string) => new AppError(400, code, message);
export const forbidden = (message: string) => new AppError(403, "forbidden", message);
export const unauthorized = (message = "missing or invalid credentials") => new AppError(401, "unauthorized", message);

/** Anything thrown that is not an AppError is an internal fault: retryable, detail for logs only. */
export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AppError(503, "unavailable", "the bridge could not complete the request; try again", {
    detail,
    retryable: true,
    cause: err,
  });
}

/** Whether an upstream (CXone, Twilio) answered this HTTP status. */
export function isUpstreamStatus(err: unknown, status: number): err is AppError {
  return err instanceof AppError && err.upstreamStatus === status;
}
