import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStack, type Stack } from "../../scripts/stack.mjs";

/** Credentials the bridge (via --var) and the emulators share in Node-side tests. */
export const E2E = {
  TWILIO_ACCOUNT_SID: "AC22222222222222222222222222222222",
  TWILIO_AUTH_TOKEN: "e2e-twilio-token",
  TWILIO_FROM_NUMBER: "+15550002000",
  CXONE_CLIENT_ID: "e2e-client",
  CXONE_CLIENT_SECRET: "e2e-client-secret",
  CXONE_WEBHOOK_SECRET: "e2e-webhook-secret",
  ADMIN_TOKEN: "e2e-admin-token",
  API_TOKEN: "e2e-api-token",
  SENDER_MPS: "20",
  RETRY_BASE_MS: "500",
  RETRY_CAP_MS: "2000",
  UPSTREAM_TIMEOUT_MS: "2000",
};

/**
 * The real thing for Node-side tests: `wrangler dev` (workerd, local D1 and Durable Objects) on
 * its own ports and state directory, with both emulators, reached over real HTTP.
 */
export async function startE2E(base: number, extra: Record<string, string> = {}): Promise<Stack & { dir: string; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "sms-bridge-e2e-"));
  const stack = await startStack({
    port: base,
    twilioPort: base + 1,
    cxonePort: base + 2,
    persistTo: dir,
    quiet: true,
    tickSeconds: 0,
    vars: { ...E2E, ...extra },
  });
  return Object.assign(stack, {
    dir,
    async cleanup() {
      await stack.stop();
      if (!process.env.KEEP_E2E_STATE) rmSync(dir, { recursive: true, force: true });
    },
  });
}

export async function json<T = unknown>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init).catch((err: Error) => {
    throw new Error(`${init?.method ?? "GET"} ${url}: ${err.message} (${String((err.cause as Error | undefined)?.message)})`);
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
