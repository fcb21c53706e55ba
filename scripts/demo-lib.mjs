/** What both halves of `npm run demo` share: where the stack is, and small HTTP and waiting helpers. */
export const bridge = process.env.BRIDGE_URL ?? "http://localhost:8787";
export const twilio = process.env.TWILIO_EMULATOR_URL ?? "http://127.0.0.1:8788";
export const cxone = process.env.CXONE_EMULATOR_URL ?? "http://127.0.0.1:8789";
export const customer = process.env.DEMO_CUSTOMER ?? `+1415555${String(Date.now() % 10000).padStart(4, "0")}`;
export const business = process.env.DEMO_BUSINESS ?? "+15550001000";
/** The WhatsApp sender of .dev.vars.example (WHATSAPP_FROM_NUMBER), and the template it knows. */
export const whatsappSender = process.env.DEMO_WHATSAPP_SENDER ?? "whatsapp:+15550007000";
const apiToken = process.env.API_TOKEN ?? "dev-api-token";

export const json = async (url, init) => {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
};
export const post = (url, body) => json(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function until(what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
export const step = (n, text) => console.log(`\n${n}. ${text}`);

/** The business API (bearer API_TOKEN): POST with a body, GET without. */
export const v1 = (path, body) =>
  json(`${bridge}${path}`, { method: body ? "POST" : "GET", headers: { "content-type": "application/json", authorization: `Bearer ${apiToken}` }, body: body && JSON.stringify(body) });

/** The SMS the Twilio emulator was asked to send to `to` with `body`, once it has it. */
export const sentSms = (to, body) => until("the SMS at Twilio", async () => (await json(`${twilio}/_emu/messages`)).find((m) => m.to === to && m.body === body));

/** The WhatsApp message the Twilio emulator was asked to send to `to` (whatsapp:+…) that `match` picks, once it has it. */
export const sentWhatsApp = (to, what, match) => until(what, async () => (await json(`${twilio}/_emu/messages`)).find((m) => m.to === to && match(m)));

/** What the Twilio emulator recorded for a send, WhatsApp's fields included. */
export function showTwilio(m) {
  console.log(`   Twilio has it: ${m.sid} from ${m.from} to ${m.to}, ${m.num_segments} message`);
  if (m.content_sid) console.log(`     ContentSid ${m.content_sid}, ContentVariables ${JSON.stringify(m.content_variables)}`);
  else console.log("     free text (no ContentSid)");
  console.log(`     the customer sees: ${JSON.stringify(m.body)}`);
}

/** The bridge's /healthz; exits with what to do when it is down or its configuration is incomplete. */
export async function bridgeHealth() {
  const res = await fetch(`${bridge}/healthz`).catch((e) => {
    console.error(`The bridge is not answering at ${bridge} — start it with \`npm run dev\` first.\n${e.message}`);
    process.exit(1);
  });
  const health = await res.json().catch(() => ({}));
  console.log(`bridge ${bridge}: ${JSON.stringify(health)}`);
  if (!res.ok) {
    // A .dev.vars made before a setting existed lacks it: the example has a local value for each.
    const hint = health.missing ? ` Missing: ${health.missing.join(", ")} — copy their lines from .dev.vars.example into .dev.vars and restart \`npm run dev\`.` : "";
    console.error(`The bridge is up but not ready (${res.status}).${hint}`);
    process.exit(1);
  }
  const asked = process.env.CXONE_API_MODE;
  if (asked && asked !== health.mode) console.warn(`CXONE_API_MODE=${asked} here, but the bridge runs ${health.mode}: showing ${health.mode} (restart with \`CXONE_API_MODE=${asked} npm run dev\` for the other).`);
  return health;
}

/** A number whose local time is 09:00–20:00 now, so quiet hours (21:00–08:00 recipient-local) do not rightly defer an alert. */
const awake = [["+1646555", "America/New_York"], ["+1213555", "America/Los_Angeles"], ["+1808555", "Pacific/Honolulu"], ["+81901", "Asia/Tokyo"], ["+91987", "Asia/Kolkata"], ["+447700", "Europe/London"]].find(
  ([, timeZone]) => {
    const h = Number(new Intl.DateTimeFormat("en-US", { timeZone, hour: "2-digit", hourCycle: "h23" }).format(new Date()));
    return h >= 9 && h < 20;
  },
)[0];
export const recipient = (i) => `${awake}${String((Date.now() + i) % 10000).padStart(4, "0")}`;

/** What Twilio has of a refused text: none of it, and none of its own 63016 failures. */
export async function showNotAtTwilio(body) {
  const atTwilio = (await json(`${twilio}/_emu/messages`)).filter((m) => m.body === body).length;
  const { outsideWindow } = await json(`${twilio}/_emu/stats`);
  console.log(`   at Twilio: ${atTwilio} messages with that text (Twilio's own 63016 failures: ${outsideWindow})`);
}

/** The WhatsApp customer answers through Twilio (which opens its window), with a profile name. */
export async function whatsappAnswer(from) {
  const answer = await post(`${twilio}/_emu/inbound`, { from, to: whatsappSender, body: "Yes please, anything later tonight?", profileName: "Ana García" });
  console.log(`   MessageSid ${answer.sid}: the bridge answered ${answer.status} ${answer.body}`);
  return answer;
}
