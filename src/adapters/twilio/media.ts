import type { Ready } from "../../config";
import { AppError } from "../../errors";
import { fetchUpstream } from "../http";
import { basicAuth } from "./client";

/** contract §8: at most this much per media item, and this many redirects (Twilio's CDN). */
export const MAX_MEDIA_BYTES = 5 * 1024 * 1024;
const MAX_REDIRECTS = 3;

export interface FetchedMedia {
  bytes: Uint8Array;
  contentType: string;
}

/** The origins a MediaUrl may point at: Twilio's API, and the one the bridge is configured to use. */
export function mediaOrigins(config: Ready): Set<string> {
  return new Set(["https://api.twilio.com", new URL(config.TWILIO_API_BASE).origin]);
}

/**
 * Fetches one of a customer's MMS items from Twilio (contract §8). Only a URL on Twilio's API origin
 * is ever fetched — a MediaUrl anywhere else is refused before any request leaves (SSRF) — with
 * the account's credentials; Twilio answers with a redirect to its CDN, followed at most three
 * times without the credentials (they are Twilio's, not the CDN's). More than 5 MB is refused
 * without being read to the end. Every refusal is an AppError saying why, never a body.
 */
export async function fetchTwilioMedia(config: Ready, url: string): Promise<FetchedMedia> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new AppError(422, "media_refused", "not a URL");
  }
  if (!mediaOrigins(config).has(target.origin)) throw new AppError(422, "media_refused", `not on Twilio's origin (${target.host})`);
  const credentials = basicAuth(config);
  for (let hop = 0; ; hop++) {
    const onTwilio = mediaOrigins(config).has(target.origin);
    const res = await fetchUpstream("twilio", target.toString(), { redirect: "manual", headers: onTwilio ? { authorization: credentials } : {} }, config.UPSTREAM_TIMEOUT_MS);
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const next = res.headers.get("location");
      if (!next || hop >= MAX_REDIRECTS) throw new AppError(422, "media_refused", hop >= MAX_REDIRECTS ? "more than 3 redirects" : "a redirect without a location");
      target = new URL(next, target);
      if (target.protocol !== "https:" && !mediaOrigins(config).has(target.origin)) throw new AppError(422, "media_refused", "a redirect to plain http");
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new AppError(res.status >= 500 ? 503 : 422, "media_unavailable", `Twilio answered ${res.status}`, { retryable: res.status >= 500 });
    }
    return { bytes: await readAtMost(res, MAX_MEDIA_BYTES), contentType: (res.headers.get("content-type") ?? "application/octet-stream").split(";")[0]!.trim() };
  }
}

async function readAtMost(res: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await res.body?.cancel();
    throw new AppError(422, "media_too_large", `${declared} bytes, more than 5 MB`);
  }
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new AppError(422, "media_too_large", "more than 5 MB");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
