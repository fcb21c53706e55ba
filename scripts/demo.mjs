/**
 * `npm run demo` (with `npm run dev` running): a customer texts the business, the text lands in
 * the emulated CXone conversation, an agent replies twice — once pushed by CXone, once found by
 * the Cron poller — and both replies reach the emulated Twilio with their receipts.
 */
const bridge = process.env.BRIDGE_URL ?? "http://localhost:8787";
const twilio = process.env.TWILIO_EMULATOR_URL ?? "http://127.0.0.1:8788";
const cxone = process.env.CXONE_EMULATOR_URL ?? "http://127.0.0.1:8789";
const customer = process.env.DEMO_CUSTOMER ?? `+1415555${String(Date.now() % 10000).padStart(4, "0")}`;
const business = process.env.DEMO_BUSINESS ?? "+15550001000";

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
  const reports = await until("the SENT report in CXone", async () => (await json(`${cxone}/_emu/reports`))[id]);
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

console.log("\nDone: one inbound text in one conversation, two replies sent once each.");
