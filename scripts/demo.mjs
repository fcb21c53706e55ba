/**
 * `npm run demo` (with `npm run dev` running), in the dialect the bridge reports on /healthz. In
 * open-messaging mode: a customer texts the business, the text lands in the emulated CXone
 * conversation, an agent replies twice — once pushed by CXone, once found by the Cron poller — and
 * both replies reach the emulated Twilio with their receipts. Then a business system sends a
 * proactive alert, the customer's answer threads into the alert's conversation, and a batch of
 * alerts drains through the sender's rate bucket. Then WhatsApp (contract §9): a template alert, an
 * agent's free text refused while the 24-hour window is closed, the customer's answer in the
 * alert's conversation opening it, and the agent's free-text reply sent and read. In DFO mode,
 * scripts/demo-dfo.mjs.
 */
import { bridge, bridgeHealth, business, customer, cxone, json, post, recipient, sentSms, sentWhatsApp, showNotAtTwilio, showTwilio, sleep, step, twilio, until, v1, whatsappAnswer, whatsappSender } from "./demo-lib.mjs";

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

/** The status reports CXone has for `id`, once one of them is `status`; printed as a chain. */
async function reportsUntil(id, status) {
  const history = await until(`the ${status} report in CXone`, async () => {
    const list = (await json(`${cxone}/_emu/reports`))[id];
    return list?.some((r) => r.body.status === status) && list;
  });
  const label = (r) => `${r.body.status}${r.body.deliveryReceipt?.errorCode ? ` (errorCode ${r.body.deliveryReceipt.errorCode})` : ""}`;
  console.log(`   CXone status reports for ${id}: ${history.map(label).join(" → ")}`);
  return history;
}

const waNumber = recipient(40);
const waCustomer = `whatsapp:${waNumber}`;
step(8, `WhatsApp: a template alert to ${waNumber} (POST /v1/proactive, channel whatsapp, template flight_update)`);
const template = { name: "flight_update", parameters: [{ type: "text", text: "AB123" }, { type: "text", text: "18:40" }] };
const waAlert = await v1("/v1/proactive", { to: waNumber, channel: "whatsapp", template, campaignId: "irops-whatsapp", idempotencyKey: `demo-wa-${Date.now()}` });
console.log(`   ${JSON.stringify(waAlert)}`);
const notes = {};
const showConversation = async (what) => {
  const c = await json(`${cxone}/_emu/conversations/${waAlert.conversationId}`);
  console.log(`   ${what}: conversation ${c.id}, channel_type ${c.channelType}, participant ${c.customer}, business_number ${c.properties.business_number}`);
  for (const m of c.messages) {
    const meta = m.metadata?.whatsapp_template
      ? `   (template ${JSON.stringify(m.metadata.whatsapp_template)})`
      : m.metadata?.profile_name
        ? `   (profile_name ${JSON.stringify(m.metadata.profile_name)}, twilio_message_sid ${m.metadata.twilio_message_sid})`
        : notes[m.id]
          ? `   (${notes[m.id]})`
          : "";
    console.log(`     [${m.direction}] ${m.text}${meta}`);
  }
  return c;
};
await showConversation("what the agent sees in CXone");
showTwilio(await sentWhatsApp(waCustomer, "the template at Twilio", (m) => m.content_sid !== null));
await reportsUntil(waAlert.messageId, "READ");

step(9, "An agent replies in free text before the customer has written: outside WhatsApp's 24-hour window, refused before Twilio");
const earlyBody = "Hello! Shall I look for another flight for you?";
const early = await post(`${cxone}/_emu/agent-reply`, { conversationId: waAlert.conversationId, body: earlyBody, push: true });
console.log(`   CXone message ${early.id}: the bridge answered the push with ${early.pushed}`);
await reportsUntil(early.id, "FAILED");
notes[early.id] = "the agent's reply refused: OUTSIDE_WHATSAPP_WINDOW";
await showNotAtTwilio(earlyBody);

step(10, `The customer answers on WhatsApp (${waCustomer} → ${whatsappSender}, profile name "Ana García"): in the alert's conversation, and the window opens`);
const waAnswer = await whatsappAnswer(waCustomer);
await until("the answer in the alert's conversation", async () => (await json(`${cxone}/_emu/conversations/${waAlert.conversationId}`)).messages.some((m) => m.metadata?.twilio_message_sid === waAnswer.sid));
await showConversation("the same conversation");

step(11, "The agent replies in free text, now inside the window: sent from the WhatsApp sender, delivered, then read");
const waReplyBody = "UA411 leaves at 21:05 and has a seat for you. Shall I book it?";
const waReply = await post(`${cxone}/_emu/agent-reply`, { conversationId: waAlert.conversationId, body: waReplyBody, push: true });
console.log(`   CXone message ${waReply.id} (channel WHATSAPP): the bridge answered the push with ${waReply.pushed}`);
showTwilio(await sentWhatsApp(waCustomer, "the reply at Twilio", (m) => m.body === waReplyBody));
await reportsUntil(waReply.id, "READ");

console.log("\nDone: one inbound text in one conversation, two replies sent once each with their receipts, an alert answered in its own conversation, a batch drained;");
console.log("on WhatsApp, a template alert, free text refused outside the 24-hour window, the customer's answer in the alert's conversation, and a free-text reply sent and read.");
