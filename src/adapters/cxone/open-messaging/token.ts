import type { Ready } from "../../../config";
import { fetchUpstream, parseUpstream, upstreamFailure } from "../../http";
import { expiringIn, type Token } from "../token";
import { TokenResponse } from "./schemas";

/** OAuth 2.0 client-credentials grant (contract §4). */
export async function requestToken(config: Ready<"open-messaging">): Promise<Token> {
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
  return { value: body.access_token, expiresAt: expiringIn(body.expires_in) };
}
