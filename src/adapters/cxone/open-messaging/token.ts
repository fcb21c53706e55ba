import type { Ready } from "../../../config";
import { expiringIn, postTokenForm, type Token } from "../token";
import { TokenResponse } from "./schemas";

/** OAuth 2.0 client-credentials grant (contract §4). */
export async function requestToken(config: Ready<"open-messaging">): Promise<Token> {
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (config.CXONE_SCOPE) form.set("scope", config.CXONE_SCOPE);
  const body = await postTokenForm(config, form, TokenResponse);
  return { value: body.access_token, expiresAt: expiringIn(body.expires_in) };
}
