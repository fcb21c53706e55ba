import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.mjs";
import { cxoneView, type CxoneView } from "./cxone-view";
import { until } from "./http";
import { twilioSide, type TwilioSide } from "./twilio-side";

export { json, post, sleep, until } from "./http";

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

/** The two CXone dialects (contract §3–4 and §8); every e2e file runs its cases in both. */
export const MODES = ["open-messaging", "dfo"] as const;
export type Mode = (typeof MODES)[number];

/** What CXone's BYOC form and the bridge's DFO settings agree on (contract §8). */
export const DFO = {
  CXONE_ACCESS_KEY_ID: "e2e-access-key-id",
  CXONE_ACCESS_KEY_SECRET: "e2e-access-key-secret",
  CXONE_BYOC_CLIENT_ID: "e2e-byoc-client",
  CXONE_BYOC_CLIENT_SECRET: "e2e-byoc-secret",
  CHANNEL: "chat_e2e-sms",
  WHATSAPP_CHANNEL: "chat_e2e-whatsapp",
};

/**
 * Each file has a slot, each mode its own range of ports (open-messaging 18787…, DFO 22787…), so
 * that the files, and the two modes of one file, never meet on a port even when run side by side.
 */
const BASE_PORT: Record<Mode, number> = { "open-messaging": 18_787, dfo: 22_787 };
type Slot = 0 | 1 | 2 | 3;
export const basePort = (mode: Mode, slot: Slot) => BASE_PORT[mode] + slot * 1_000;

/**
 * What a DFO deployment needs besides the shared settings: the deployment's one business sender
 * (its Messaging Service, else its number) and the default entry are the one channel.
 */
function modeVars(mode: Mode, vars: Record<string, string>): Record<string, string> {
  if (mode === "open-messaging") return {};
  const { CHANNEL, WHATSAPP_CHANNEL: _whatsapp, ...keys } = DFO;
  const sender = vars.TWILIO_MESSAGING_SERVICE_SID || vars.TWILIO_FROM_NUMBER!;
  // A WhatsApp sender has a channel of its own (contract §9).
  const whatsapp = vars.WHATSAPP_FROM_NUMBER ? { [vars.WHATSAPP_FROM_NUMBER]: DFO.WHATSAPP_CHANNEL } : {};
  return { ...keys, CXONE_DFO_CHANNELS: JSON.stringify({ [sender]: CHANNEL, ...whatsapp, "*": CHANNEL }) };
}

export type E2EStack = Stack & { dir: string; cleanup(): Promise<void> };

/**
 * The real thing for Node-side tests: `wrangler dev` (workerd, local D1 and Durable Objects) on
 * its own ports and state directory, with both emulators, reached over real HTTP.
 */
export async function startE2E(base: number, extra: Record<string, string> = {}, mode: Mode = "open-messaging"): Promise<E2EStack> {
  const dir = mkdtempSync(join(tmpdir(), `sms-bridge-e2e-${mode}-`));
  const vars = { ...E2E, ...extra };
  const stack = await startStack({
    port: base,
    twilioPort: base + 1,
    cxonePort: base + 2,
    persistTo: dir,
    quiet: true,
    tickSeconds: 0,
    // Named, so that a CXONE_API_MODE left in the shell cannot turn an open-messaging stack into DFO.
    mode,
    vars: { ...vars, ...modeVars(mode, vars) },
  });
  return Object.assign(stack, {
    dir,
    async cleanup() {
      await stack.stop();
      if (!process.env.KEEP_E2E_STATE) rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface E2EContext {
  stack: E2EStack;
  /** CXone as the agent sees it, in this mode's dialect. */
  cx: CxoneView;
  /** Twilio's side: the customer's texts in, the SMS out. */
  tw: TwilioSide;
}

/**
 * A stack for the enclosing describe block in `mode`, started before its tests and stopped after
 * them; the fields are set once beforeAll has run.
 */
export function useE2E(mode: Mode, slot: Slot, extra: Record<string, string> = {}): E2EContext {
  const e2e = {} as E2EContext;
  beforeAll(async () => {
    e2e.stack = await startE2E(basePort(mode, slot), extra, mode);
    e2e.cx = cxoneView(mode, e2e.stack.cxoneUrl);
    e2e.tw = twilioSide(e2e.stack, { ...E2E, ...extra });
  }, 120_000);
  afterAll(async () => {
    await e2e.stack?.cleanup();
  });
  return e2e;
}

/** The customer's conversation once their text is in it (it is their first when none is open). */
export async function conversationAfter(e: E2EContext, customer: string, body: string, fields: Record<string, string> = {}) {
  expect(await e.tw.text(customer, body, fields)).toBe(200);
  return until(`the conversation of ${customer}`, async () => (await e.cx.conversationsOf(customer)).find((c) => c.messages.some((m) => m.text === body)));
}
