import { hmacSha1Base64, safeEqual, sha256Hex } from "../../crypto";

/**
 * X-Twilio-Signature, as Twilio's own `twilio` library computes and checks it
 * (webhooks.validateRequest / validateRequestWithBody): HMAC-SHA1 (base64) keyed with the auth
 * token over the URL followed by every parameter name+value sorted by name — a repeated name
 * contributes each distinct value, sorted. Verified against that library in the test suite.
 */

export type FormParams = Map<string, string[]>;

/** Parses a urlencoded body keeping repeated fields (a last-value map would break signatures). */
export function parseForm(raw: string): FormParams {
  const params: FormParams = new Map();
  for (const [key, value] of new URLSearchParams(raw)) {
    const values = params.get(key);
    if (values) values.push(value);
    else params.set(key, [value]);
  }
  return params;
}

export function signedPayload(url: string, params: FormParams): string {
  let data = url;
  for (const key of [...params.keys()].sort()) {
    for (const value of [...new Set(params.get(key))].sort()) data += key + value;
  }
  return data;
}

function withDefaultPort(url: URL): string {
  if (url.port) return url.toString();
  const port = url.protocol === "https:" ? "443" : "80";
  const auth = url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
  return `${url.protocol}//${auth}${url.host}:${port}${url.pathname}${url.search}${url.hash}`;
}

function withoutPort(url: URL): string {
  const copy = new URL(url);
  copy.port = "";
  return copy.toString();
}

/**
 * Node's legacy querystring re-encoding (parse then stringify), which Twilio's back end is known
 * to have signed with: values grouped by name in object-key order, percent-encoded.
 */
function withLegacyQuery(url: string): string {
  const parsed = new URL(url);
  if (!parsed.search) return url;
  const grouped: Record<string, string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(parsed.search)) (grouped[k] ??= []).push(v);
  const pairs = Object.keys(grouped).flatMap((k) => grouped[k]!.map((v) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`));
  parsed.search = "";
  return `${parsed.toString()}?${pairs.join("&")}`;
}

/** The URL forms the twilio library accepts, in its order: without port, with port, legacy query forms. */
export function candidateUrls(url: string): string[] {
  const parsed = new URL(url);
  const bare = withoutPort(parsed);
  const ported = withDefaultPort(parsed);
  return [...new Set([bare, ported, withLegacyQuery(bare), withLegacyQuery(ported)])];
}

export interface SignatureCheck {
  valid: boolean;
  urlsTried: string[];
}

/**
 * Checks a webhook signature against every auth token (primary, then the secondary during a
 * rotation) and every URL form. For a JSON body, `url` carries bodySHA256 and `params` must
 * be empty; the hash is checked by the caller through `bodyHashMatches`.
 */
export async function checkSignature(
  tokens: readonly string[],
  signature: string | null | undefined,
  url: string,
  params: FormParams,
): Promise<SignatureCheck> {
  const urlsTried = candidateUrls(url);
  if (!signature) return { valid: false, urlsTried };
  let valid = false;
  for (const token of tokens) {
    for (const candidate of urlsTried) {
      // Keep going after a match so the time taken does not reveal which form matched.
      if (safeEqual(signature, await hmacSha1Base64(token, signedPayload(candidate, params)))) valid = true;
    }
  }
  return { valid, urlsTried };
}

export async function bodyHashMatches(url: string, rawBody: string): Promise<boolean> {
  const expected = new URL(url).searchParams.get("bodySHA256") ?? "";
  return safeEqual(expected, await sha256Hex(rawBody));
}

/** Signs a request the way Twilio does; used by the emulators and the demo, never to verify. */
export async function signRequest(token: string, url: string, params: FormParams): Promise<string> {
  return hmacSha1Base64(token, signedPayload(url, params));
}
