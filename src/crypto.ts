/** WebCrypto helpers shared by the webhook checks. */

const encoder = new TextEncoder();

async function hmac(hash: "SHA-1" | "SHA-256", key: string, data: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(data)));
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

export async function hmacSha1Base64(key: string, data: string): Promise<string> {
  return btoa(String.fromCharCode(...(await hmac("SHA-1", key, data))));
}

export async function hmacSha256Hex(key: string, data: string): Promise<string> {
  return hex(await hmac("SHA-256", key, data));
}

export async function sha256Hex(data: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(data))));
}

/** Constant-time string comparison (the length may leak, the content does not). */
export function safeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.byteLength !== y.byteLength) {
    // Compare against itself so the time taken does not depend on where the strings differ.
    crypto.subtle.timingSafeEqual(x, x);
    return false;
  }
  return crypto.subtle.timingSafeEqual(x, y);
}
