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
