import { AppError } from "../../errors";
import { fetchUpstream, upstreamFailure } from "../http";
import type { Token, TokenSource } from "./token";

export type CxoneCall = (method: string, path: string, what: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;

/**
 * Calls CXone with the bearer token (contract §4, §8): a 401 refreshes the token once and retries.
 * `origin` gives the API origin for a token (DFO may discover it from the token's tenant).
 */
export function cxoneCaller(tokens: TokenSource, origin: (token: Token) => string | undefined, timeoutMs: number): CxoneCall {
  return async (method, path, what, body, headers = {}) => {
    for (let attempt = 0; ; attempt++) {
      const token = await tokens.get();
      const base = origin(token);
      if (!base) throw new AppError(503, "misconfigured", "the CXone API origin is not known", { detail: "CXONE_API_BASE is unset and discovery gave none", retryable: true });
      const res = await fetchUpstream(
        "cxone",
        `${base}${path}`,
        {
          method,
          headers: {
            authorization: `Bearer ${token.value}`,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        },
        timeoutMs,
      );
      if (res.status === 401 && attempt === 0) {
        await res.body?.cancel();
        await tokens.invalidate(token.value);
        continue;
      }
      if (!res.ok) throw await upstreamFailure("cxone", res, what);
      return res;
    }
  };
}

export { isUpstreamStatus } from "../../errors";
