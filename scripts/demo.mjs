/**
 * `npm run demo` (with `npm run dev` running), in the dialect the bridge reports on /healthz. In
 * open-messaging mode: a customer texts the business, the text lands in the emulated CXone
 * conversation, an agent replies twice — once pushed by CXone, once found by the Cron poller — and
 * both replies reach the emulated Twilio with their receipts. Then a business system sends a
 * proactive alert, the customer's answer threads into the alert's conversation, and a batch of
 * alerts drains through the sender's rate bucket. In DFO mode, scripts/demo-dfo.mjs.
 */
import { bridge, bridgeHealth, business, customer, cxone, json, post, recipient, sentSms, sleep, step, twilio, until, v1 } from "./demo-lib.mjs";

const health = await bridgeHealth();
if (health.mode === "dfo") {
  await (await import("./demo-dfo.mjs")).dfoDemo();
  process.exit(0);
}

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
  const sent = await sentSms(customer, body);
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

step(5, "A business system sends a proactive alert (POST /v1/proactive)");
const alertTo = recipient(0);
const alertText = "Your flight UA123 is cancelled. Reply YES to rebook on UA125.";
const alert = await v1("/v1/proactive", { to: alertTo, text: alertText, campaignId: "irops", idempotencyKey: `demo-${Date.now()}`, from: business });
console.log(`   ${JSON.stringify(alert)}`);
const alertSms = await sentSms(alertTo, alertText);
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
