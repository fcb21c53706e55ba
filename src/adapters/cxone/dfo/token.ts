import type { Ready } from "../../../config";
import { AppError } from "../../../errors";
import { fetchUpstream, parseUpstream, upstreamFailure } from "../../http";
import { expiringIn, postTokenForm, type Token } from "../token";
import { CxoneConfiguration, DfoTokenResponse } from "./schemas";

/**
 * The bridge's own token towards CXone in DFO mode (contract §8): the password grant with a CXone
 * user's access key, the registered application as HTTP Basic. Without CXONE_API_BASE, the DFO
 * origin is discovered from the `tenantId` of the token's `id_token` and kept with the token.
 */
export async function requestDfoToken(config: Ready<"dfo">): Promise<Token> {
  const form = new URLSearchParams({ grant_type: "password", username: config.CXONE_ACCESS_KEY_ID, password: config.CXONE_ACCESS_KEY_SECRET });
  const body = await postTokenForm(config, form, DfoTokenResponse);
  const token: Token = { value: body.access_token, expiresAt: expiringIn(body.expires_in) };
  if (!config.CXONE_API_BASE) token.apiBase = await discover(config, body.id_token);
  return token;
}

/** The `tenantId` claim of an id_token (a JWT read, not verified: it came from the token endpoint over TLS). */
export function tenantOf(idToken: string | undefined): string | undefined {
  const payload = idToken?.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as { tenantId?: unknown };
    return typeof claims.tenantId === "string" && claims.tenantId !== "" ? claims.tenantId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `GET …/.well-known/cxone-configuration?tenantId=` on the token endpoint's origin (in production
 * https://cxone.niceincontact.com) → `https://api-de-{area}.{domain}`. The US government area
 * (na2) is served from its own domain, as NICE's agent SDK does it.
 */
async function discover(config: Ready<"dfo">, idToken: string | undefined): Promise<string> {
  const tenantId = tenantOf(idToken);
  if (!tenantId) {
    throw new AppError(503, "cxone_bad_answer", "CXone's token carries no tenant to discover the DFO origin from", { detail: "id_token without tenantId; set CXONE_API_BASE", retryable: true });
  }
  const url = `${new URL(config.CXONE_TOKEN_URL).origin}/.well-known/cxone-configuration?${new URLSearchParams({ tenantId })}`;
  const res = await fetchUpstream("cxone", url, { headers: { accept: "application/json" } }, config.UPSTREAM_TIMEOUT_MS);
  if (!res.ok) throw await upstreamFailure("cxone", res, "the DFO discovery");
  const found = await parseUpstream("cxone", res, CxoneConfiguration, "the DFO discovery");
  const area = found.area;
  if (!area) throw new AppError(503, "cxone_bad_answer", "CXone's configuration names no area", { detail: "cxone-configuration without area; set CXONE_API_BASE", retryable: true });
  return area === "na2" ? "https://api-de-na2.nicecxone-gov.com" : `https://api-de-${area}.${found.domain}`;
}
