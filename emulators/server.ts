/**
 * Runs the Twilio and CXone emulators as local HTTP servers for `npm run dev`, the demo, the
 * soak and the benchmarks. Settings come from the environment, falling back to .dev.vars so
 * that the emulators and the bridge agree on credentials without anyone copying them around.
 * CXONE_API_MODE=dfo serves CXone's Digital First Omnichannel side (contract §8) on the CXone port
 * instead of Open Messaging.
 */
import { serve } from "@hono/node-server";
import { existsSync, readFileSync } from "node:fs";
import { createCxoneEmulator } from "./cxone/app";
import { createDfoEmulator } from "./dfo/app";
import { FaultRule } from "./faults";
import { seededRandom } from "./random.mjs";
import { createTwilioEmulator } from "./twilio/app";
import { webhookClient } from "./webhook-client";

function devVars(): Record<string, string> {
  const file = existsSync(".dev.vars") ? ".dev.vars" : ".dev.vars.example";
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1]!] = match[2]!.replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

const vars = { ...devVars(), ...process.env } as Record<string, string | undefined>;
const setting = (name: string, fallback?: string) => vars[name] ?? fallback ?? "";
const bridgeUrl = setting("BRIDGE_URL", "http://localhost:8787");
const twilioPort = Number(setting("EMU_TWILIO_PORT", "8788"));
const cxonePort = Number(setting("EMU_CXONE_PORT", "8789"));
const stepMs = Number(setting("EMU_STATUS_STEP_MS", "300"));
// EMU_SEED: the faults are drawn from the soak's seed (a stream per emulator), not Math.random.
const seed = vars.EMU_SEED ? Number(vars.EMU_SEED) : undefined;
const random = (stream: string) => (seed === undefined ? undefined : seededRandom(seed, stream));

export const twilio = createTwilioEmulator({
  accountSid: setting("TWILIO_ACCOUNT_SID"),
  authToken: setting("TWILIO_AUTH_TOKEN"),
  bridgeUrl,
  publicBaseUrl: setting("PUBLIC_BASE_URL", bridgeUrl),
  autoStatus: stepMs > 0 ? { stepMs } : false,
  callbackFaults: vars.EMU_CALLBACK_FAULTS ? JSON.parse(vars.EMU_CALLBACK_FAULTS) : undefined,
  random: random("twilio"),
  fetch: webhookClient(),
  // EMU_WHATSAPP_TEMPLATES: JSON {"HX…": "text with {{1}}"} instead of the dev templates.
  whatsappTemplates: vars.EMU_WHATSAPP_TEMPLATES ? JSON.parse(vars.EMU_WHATSAPP_TEMPLATES) : undefined,
  whatsappReadShare: vars.EMU_WHATSAPP_READ_SHARE ? Number(vars.EMU_WHATSAPP_READ_SHARE) : undefined,
});

const cxoneMode = setting("CXONE_API_MODE") === "dfo" ? "dfo" : "open-messaging";

export const cxone =
  cxoneMode === "dfo"
    ? createDfoEmulator({
        accessKeyId: setting("CXONE_ACCESS_KEY_ID", "dev-access-key-id"),
        accessKeySecret: setting("CXONE_ACCESS_KEY_SECRET", "dev-access-key-secret"),
        clientId: setting("CXONE_CLIENT_ID", "dev-client"),
        clientSecret: setting("CXONE_CLIENT_SECRET", "dev-client-secret"),
        byocClientId: setting("CXONE_BYOC_CLIENT_ID", "dev-byoc-client"),
        byocClientSecret: setting("CXONE_BYOC_CLIENT_SECRET", "dev-byoc-client-secret"),
        origin: `http://127.0.0.1:${cxonePort}`,
        bridgeUrl,
        tokenTtlSec: Number(setting("EMU_TOKEN_TTL_SEC", "3600")),
        random: random("cxone"),
        fetch: webhookClient(),
      })
    : createCxoneEmulator({
        clientId: setting("CXONE_CLIENT_ID"),
        clientSecret: setting("CXONE_CLIENT_SECRET"),
        bridgeUrl,
        webhookSecret: setting("CXONE_WEBHOOK_SECRET"),
        pushAuth: vars.EMU_PUSH_AUTH === "hmac" ? "hmac" : "bearer",
        tokenTtlSec: Number(setting("EMU_TOKEN_TTL_SEC", "3600")),
        random: random("cxone"),
        fetch: webhookClient(),
      });

// EMU_TWILIO_FAULTS / EMU_CXONE_FAULTS: JSON arrays of fault rules (see emulators/faults.ts).
if (vars.EMU_TWILIO_FAULTS) twilio.faults.add(...FaultRule.array().parse(JSON.parse(vars.EMU_TWILIO_FAULTS)));
if (vars.EMU_CXONE_FAULTS) cxone.faults.add(...FaultRule.array().parse(JSON.parse(vars.EMU_CXONE_FAULTS)));

// Idle connections are the client's to close: with Node's 5-s default the server closed one just
// as a loaded client reused it ("other side closed", a soak lost to its own harness).
for (const [app, port] of [[twilio.app, twilioPort], [cxone.app, cxonePort]] as const) {
  const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
  if ("keepAliveTimeout" in server) server.keepAliveTimeout = 65_000;
}
console.log(`emulators ready: twilio http://127.0.0.1:${twilioPort}  cxone (${cxoneMode}) http://127.0.0.1:${cxonePort}  (bridge ${bridgeUrl})`);
