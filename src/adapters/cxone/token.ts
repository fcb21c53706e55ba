import type { z } from "zod";
import type { Ready } from "../../config";
import { fetchUpstream, parseUpstream, upstreamFailure } from "../http";

/**
 * CXone access tokens, whichever grant got them (open-messaging: client credentials; DFO: the
 * access key's password grant). One holder per deployment (CxoneTokenDO) asks CXone; each isolate
 * keeps a copy until it nears expiry.
 */
export interface Token {
  value: string;
  /** The refresh margin is already taken off. */
  expiresAt: number;
  /** DFO: the API origin discovered from the token's tenant, when CXONE_API_BASE is unset. */
  apiBase?: string;
}

/** Refresh this long before expiry: a minute, or a tenth of a short-lived token's life. */
export function refreshMargin(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs / 10);
}

export function isFresh(token: Token | undefined, now = Date.now()): token is Token {
  return token !== undefined && token.expiresAt > now;
}

export function expiringIn(expiresInSec: number, now = Date.now()): number {
  const lifetime = expiresInSec * 1000;
  return now + lifetime - refreshMargin(lifetime);
}

export interface TokenSource {
  get(): Promise<Token>;
  /** Drops `stale` if it is still the current token (after a 401), so one refresh serves everyone. */
  invalidate(stale: string): Promise<void>;
}

/**
 * A token request to CXONE_TOKEN_URL, as both grants make it: the form, the registered
 * application as HTTP Basic, CXone's answer parsed with the grant's schema.
 */
export async function postTokenForm<T>(config: Ready<"open-messaging"> | Ready<"dfo">, form: URLSearchParams, schema: z.ZodType<T>): Promise<T> {
  const res = await fetchUpstream(
    "cxone",
    config.CXONE_TOKEN_URL,
    {
      method: "POST",
      headers: {
        authorization: `Basic ${btoa(`${config.CXONE_CLIENT_ID}:${config.CXONE_CLIENT_SECRET}`)}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: form.toString(),
    },
    config.UPSTREAM_TIMEOUT_MS,
  );
  if (!res.ok) throw await upstreamFailure("cxone", res, "the token request");
  return parseUpstream("cxone", res, schema, "the token request");
}
