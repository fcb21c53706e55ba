import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { requireConfig, type Ready } from "../config";
import { hmacSha256Hex, safeEqual } from "../crypto";
import { AppError } from "../errors";
import { log } from "../log";
import type { AppEnv } from "./app";

/** contract §8: the lifetime of the tokens the bridge gives CXone. */
export const TOKEN_TTL_S = 3600;

/** The DFO routes exist only in DFO mode; anywhere else they are not there at all. */
export function dfoConfig(env: Env): Ready<"dfo"> {
  const config = requireConfig(env);
  if (config.CXONE_API_MODE !== "dfo") throw new AppError(404, "not_found", "the DFO routes are served when CXONE_API_MODE is dfo");
  return requireConfig(env, "dfo");
}

const b64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64url = (text: string) => atob(text.replace(/-/g, "+").replace(/_/g, "/"));
// Bound to the BYOC secret: rotating it revokes every token given out with the old one.
const signature = (config: Ready<"dfo">, payload: string) => hmacSha256Hex(`byoc-token:${config.CXONE_BYOC_CLIENT_SECRET}`, payload);

/**
 * A self-contained token (contract §8): whose it is and until when, signed. No storage, so it holds
 * across Worker restarts and isolates, and is refused after its expiry.
 */
export async function issueToken(config: Ready<"dfo">, now = Date.now()): Promise<string> {
  const payload = b64url(JSON.stringify({ cid: config.CXONE_BYOC_CLIENT_ID, exp: Math.floor(now / 1000) + TOKEN_TTL_S }));
  return `${payload}.${await signature(config, payload)}`;
}

export async function tokenValid(config: Ready<"dfo">, token: string, now = Date.now()): Promise<boolean> {
  const [payload, sig, extra] = token.split(".");
  if (!payload || !sig || extra !== undefined) return false;
  if (!safeEqual(sig, await signature(config, payload))) return false;
  try {
    const claims = JSON.parse(unb64url(payload)) as { cid?: unknown; exp?: unknown };
    return claims.cid === config.CXONE_BYOC_CLIENT_ID && typeof claims.exp === "number" && claims.exp * 1000 > now;
  } catch {
    return false;
  }
}

/** CXone's calls carry a token from /cxone/dfo/token; without a valid one, 401 — and CXone asks for one. */
export const byocToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = dfoConfig(c.env);
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  if (!match || !(await tokenValid(config, match[1]!))) {
    // The route's pattern, not the path: the 1.0 routes carry the customer's number (contract §6).
    log("info", "dfo.token_refused", { route: routePath(c), reason: match ? "forged or expired token" : "no bearer token" });
    c.header("www-authenticate", 'Bearer error="invalid_token"');
    throw new AppError(401, "invalid_token", "a valid bearer token from the bridge's token endpoint is required");
  }
  await next();
};

/** The client credentials of a token request: HTTP Basic, or the body's client_id/client_secret. */
export function clientCredentials(c: Context<AppEnv>, body: Record<string, unknown>): { id: string; secret: string } | undefined {
  const basic = /^Basic\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  if (basic) {
    let decoded: string;
    try {
      decoded = atob(basic[1]!);
    } catch {
      return undefined;
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    return { id: formDecoded(decoded.slice(0, colon)), secret: formDecoded(decoded.slice(colon + 1)) };
  }
  return typeof body.client_id === "string" && typeof body.client_secret === "string" ? { id: body.client_id, secret: body.client_secret } : undefined;
}

/** RFC 6749 §2.3.1: Basic credentials are form-encoded first; a part that is not stays as it is. */
function formDecoded(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    return part;
  }
}

/** Constant time for both parts, whichever differs. */
export function credentialsMatch(config: Ready<"dfo">, given: { id: string; secret: string }): boolean {
  const id = safeEqual(given.id, config.CXONE_BYOC_CLIENT_ID);
  const secret = safeEqual(given.secret, config.CXONE_BYOC_CLIENT_SECRET);
  return id && secret;
}
