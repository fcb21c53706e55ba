/**
 * `npm run demo` (with `npm run dev` running): a customer texts the business, the text lands in
 * the emulated CXone conversation, an agent replies twice — once pushed by CXone, once found by
 * the Cron poller — and both replies reach the emulated Twilio with their receipts. Then a
 * business system sends a proactive alert, the customer's answer threads into the alert's
 * conversation, and a batch of alerts drains through the sender's rate bucket.
 */
const bridge = process.env.BRIDGE_URL ?? "http://localhost:8787";
const twilio = process.env.TWILIO_EMULATOR_URL ?? "http://127.0.0.1:8788";
const cxone = process.env.CXONE_EMULATOR_URL ?? "http://127.0.0.1:8789";
const customer = process.env.DEMO_CUSTOMER ?? `+1415555${String(Date.now() % 10000).padStart(4, "0")}`;
const business = process.env.DEMO_BUSINESS ?? "+15550001000";
const apiToken = process.env.API_TOKEN ?? "dev-api-token";

const json = async (url, init) => {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
};
const post = (url, body) => json(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
const step = (n, text) => console.log(`\n${n}. ${text}`);

const health = await json(`${bridge}/healthz`).catch((e) => {
  console.error(`The bridge is not answering at ${bridge} — start it with \`npm run dev\` first.\n${e.message}`);
  process.exit(1);
});
console.log(`bridge ${bridge}: ${JSON.stringify(health)}`);

step(1, `The customer ${customer} texts ${business} (Twilio emulator → signed POST /twilio/inbound)`);
const inbound = await post(`${twilio}/_emu/inbound`, { from: customer, to: business, body: "Hi! Where is my order #1234?" });
console.log(`   MessageSid ${inbound.sid}: the bridge answered ${inbound.status} ${inbound.body}`);

step(2, "The message lands in the customer's CXone conversation");
const conversation = await until("the CXone conversation", async () =>
  (await json(`${cxone}/_emu/conversations`)).find((c) => c.customer === customer && c.messages.length > 0),
);
console.log(`   conversation ${conversation.id} (${conversation.status}), messages:`);
for (const m of conversation.messages) console.log(`     [${m.direction}] ${m.text}   (twilio_message_sid ${m.metadata?.twilio_message_sid})`);

async function showSent(body, id) {
  const sent = await until("the SMS at Twilio", async () => (await json(`${twilio}/_emu/messages`)).find((m) => m.to === customer && m.body === body));
  console.log(`   Twilio has it: ${sent.sid} from ${sent.from} to ${sent.to}, ${sent.num_segments} segment(s)`);
  // The emulated carrier moves the message on (queued → sent → delivered) with signed callbacks.
  const reports = await until("the DELIVERED receipt in CXone", async () => {
    const history = (await json(`${cxone}/_emu/reports`))[id];
    return history?.some((r) => r.body.status === "DELIVERED") && history;
  });
  console.log(`   CXone status reports for ${id}: ${reports.map((r) => r.body.status).join(" → ")}`);
}

step(3, "An agent replies; CXone pushes it to POST /cxone/outbound");
const pushedBody = "It ships today — tracking number to follow.";
const pushed = await post(`${cxone}/_emu/agent-reply`, { conversationId: conversation.id, body: pushedBody, push: true });
console.log(`   CXone message ${pushed.id}: the bridge answered the push with ${pushed.pushed}`);
await showSent(pushedBody, pushed.id);

step(4, "Another reply that CXone does not push: the Cron poller finds it by cursor");
const polledBody = "Anything else I can help with?";
const polled = await post(`${cxone}/_emu/agent-reply`, { conversationId: conversation.id, body: polledBody, push: false });
const tick = await fetch(`${bridge}/__scheduled?cron=*+*+*+*+*`);
await tick.text();
console.log(`   CXone message ${polled.id}; Cron tick → ${tick.status}`);
await showSent(polledBody, polled.id);

// Quiet hours (21:00–08:00 recipient-local) would rightly defer an alert: pick a recipient awake now.
const awake = [["+1646555", "America/New_York"], ["+1213555", "America/Los_Angeles"], ["+1808555", "Pacific/Honolulu"], ["+81901", "Asia/Tokyo"], ["+91987", "Asia/Kolkata"], ["+447700", "Europe/London"]].find(
  ([, timeZone]) => {
    const h = Number(new Intl.DateTimeFormat("en-US", { timeZone, hour: "2-digit", hourCycle: "h23" }).format(new Date()));
    return h >= 9 && h < 20;
  },
)[0];
const recipient = (i) => `${awake}${String((Date.now() + i) % 10000).padStart(4, "0")}`;
const v1 = (path, body) => json(`${bridge}${path}`, { method: body ? "POST" : "GET", headers: { "content-type": "application/json", authorization: `Bearer ${apiToken}` }, body: body && JSON.stringify(body) });

step(5, "A business system sends a proactive alert (POST /v1/proactive)");
const alertTo = recipient(0);
const alertText = "Your flight UA123 is cancelled. Reply YES to rebook on UA125.";
const alert = await v1("/v1/proactive", { to: alertTo, text: alertText, campaignId: "irops", idempotencyKey: `demo-${Date.now()}`, from: business });
console.log(`   ${JSON.stringify(alert)}`);
const alertSms = await until("the alert at Twilio", async () => (await json(`${twilio}/_emu/messages`)).find((m) => m.to === alertTo && m.body === alertText));
console.log(`   Twilio has it: ${alertSms.sid} to ${alertSms.to}`);

step(6, "The customer answers the alert: the answer lands in the alert's conversation, not a new one");
await post(`${twilio}/_emu/inbound`, { from: alertTo, to: business, body: "YES" });
const thread = await until("the answer in CXone", async () => {
  const c = await json(`${cxone}/_emu/conversations/${alert.conversationId}`);
  return c.messages.length === 2 && c;
});
for (const m of thread.messages) console.log(`     [${m.direction}] ${m.text}`);

step(7, "A batch of 20 alerts: answered 202 at once, drained by the sender's rate bucket");
const batch = await v1("/v1/proactive", {
  campaignId: "appointments",
  from: business,
  messages: [...Array.from({ length: 20 }, (_, i) => ({ to: recipient(i + 1), text: `Reminder: your appointment is tomorrow at 9:${String(i).padStart(2, "0")}.`, idempotencyKey: `demo-${Date.now()}-${i}` })), { to: "555-0100", text: "x", idempotencyKey: `demo-bad-${Date.now()}` }],
});
console.log(`   batch ${batch.batchId}: accepted ${batch.accepted}, refused ${JSON.stringify(batch.refused)}`);
const started = Date.now();
for (;;) {
  const { counts } = await v1(`/v1/proactive/batches/${batch.batchId}`);
  console.log(`   after ${((Date.now() - started) / 1000).toFixed(0).padStart(2)} s: ${JSON.stringify(counts)}`);
  if (counts.queued === 0) break;
  await sleep(2_000);
}

console.log("\nDone: one inbound text in one conversation, two replies sent once each with their receipts, an alert answered in its own conversation, a batch drained.");
