import type { Ready } from "../../config";
import { fetchUpstream, parseUpstream, upstreamFailure } from "../http";
import { TokenResponse } from "./schemas";

export interface Token {
  value: string;
  expiresAt: number;
}

/** Refresh this long before expiry: a minute, or a tenth of a short-lived token's life. */
export function refreshMargin(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs / 10);
}

export function isFresh(token: Token | undefined, now = Date.now()): token is Token {
  return token !== undefined && token.expiresAt > now;
}

/** OAuth 2.0 client-credentials grant (SPEC §4). `expiresAt` already has the refresh margin taken off. */
export async function requestToken(config: Ready): Promise<Token> {
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (config.CXONE_SCOPE) form.set("scope", config.CXONE_SCOPE);
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
  const body = await parseUpstream("cxone", res, TokenResponse, "the token request");
  const lifetime = body.expires_in * 1000;
  return { value: body.access_token, expiresAt: Date.now() + lifetime - refreshMargin(lifetime) };
}

export interface TokenSource {
  get(): Promise<string>;
  /** Drops `stale` if it is still the current token (after a 401), so one refresh serves everyone. */
  invalidate(stale: string): Promise<void>;
}
