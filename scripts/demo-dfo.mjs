/**
 * `npm run demo` against `CXONE_API_MODE=dfo npm run dev` (contract §8): the customer's MMS lands in
 * their DFO thread with the photo uploaded as a temporary attachment; an agent's reply reaches the
 * bridge through CXone's side of the OAuth dance, goes out as an SMS, and its delivery is reported
 * back to DFO; a proactive alert is posted into the customer's thread and their answer joins it.
 * Then WhatsApp (contract §9), in a thread of its own on the WhatsApp sender's channel: a template
 * alert, an agent's free text refused while the 24-hour window is closed, the customer's answer
 * (their profile name as the end user's name) opening it, and the agent's reply delivered and seen.
 */
import { randomBytes } from "node:crypto";
import { business, customer, cxone, json, post, recipient, sentSms, sentWhatsApp, showNotAtTwilio, showTwilio, step, twilio, until, v1, whatsappAnswer, whatsappSender } from "./demo-lib.mjs";

// A 1×1 PNG: small enough to read in a log, real enough for any image viewer.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

const threadOf = async (phone) => (await json(`${cxone}/_emu/threads`)).find((t) => t.threadId === phone);
const threadWith = (phone, n) =>
  until(`${n} message(s) in the DFO thread of ${phone}`, async () => {
    const t = await threadOf(phone);
    return t && t.messages.length >= n && t;
  });
/** `notes`: a word on some messages, by idOnExternalPlatform. */
const showMessages = (thread, notes = {}) => {
  for (const m of thread.messages) {
    const fields = m.customFields ? `  customFields ${m.customFields.map((f) => `${f.ident}=${f.value}`).join(", ")}` : "";
    const note = notes[m.idOnExternalPlatform] ? `  — ${notes[m.idOnExternalPlatform]}` : "";
    console.log(`     [${m.direction}] ${JSON.stringify(m.text)}  (idOnExternalPlatform ${m.idOnExternalPlatform}, contact ${m.contactId})${fields}${note}`);
    for (const a of m.attachments) console.log(`       attachment ${a.friendlyName} → ${a.url}`);
  }
};

/** The SMS at the Twilio emulator, then the delivery status the bridge reported to DFO for `id` (the bridge's message id). */
async function showDelivery(to, text, id) {
  const sms = await sentSms(to, text);
  console.log(`   Twilio has it: ${sms.sid} from ${sms.from} to ${sms.to}`);
  // The emulated carrier moves it queued → sent → delivered; only the final state becomes a DFO status.
  const statuses = await until("the delivered status in DFO", async () => {
    const history = (await json(`${cxone}/_emu/statuses`))[id];
    return history?.some((s) => s.status === "delivered") && history;
  });
  console.log(`   DFO status updates for ${id}: ${statuses.map((s) => `${s.status} (${s.updatedAt})`).join(" → ")}`);
}

export async function dfoDemo() {
  step(1, `The customer ${customer} texts ${business} a photo (MMS): Twilio holds it behind the account's credentials`);
  const sid = `MM${randomBytes(16).toString("hex")}`;
  const media = await post(`${twilio}/_emu/media`, { contentType: "image/png", base64: PNG, messageSid: sid });
  const anonymous = await fetch(media.url, { redirect: "manual" });
  await anonymous.arrayBuffer();
  console.log(`   MediaUrl0 ${media.url}`);
  console.log(`   without credentials it answers ${anonymous.status}; the bridge fetches it with the account's and follows the 307 to the CDN`);
  const inbound = await post(`${twilio}/_emu/inbound`, { sid, from: customer, to: business, body: "My parcel arrived damaged, see the photo.", mediaUrls: [media.url] });
  console.log(`   MessageSid ${inbound.sid}: the bridge answered ${inbound.status} ${inbound.body}`);

  step(2, "It lands in the customer's DFO thread, the photo uploaded as a temporary attachment");
  const thread = await threadWith(customer, 1);
  console.log(`   thread ${JSON.stringify(thread.threadName)} (idOnExternalPlatform ${thread.threadId}) on channel ${thread.channelId}`);
  showMessages(thread);
  const attachment = thread.messages[0].attachments[0];
  if (!attachment) throw new Error("the photo did not reach DFO as an attachment (see the bridge's inbound.media_unavailable log line)");
  const file = await fetch(`${cxone}/_emu/files/${attachment.url.split("/").pop()}`);
  const bytes = Buffer.from(await file.arrayBuffer());
  const same = bytes.equals(Buffer.from(PNG, "base64"));
  console.log(`   GET /_emu/files/…: ${file.status} ${file.headers.get("content-type")}, ${bytes.length} bytes — ${same ? "the customer's photo, byte for byte" : "NOT the photo the customer sent"}`);
  if (!same) throw new Error("the attachment's bytes differ from the photo sent");

  step(3, `An agent replies; CXone calls the bridge's POST /cxone/dfo/2.0/channel/${thread.channelId}/outbound`);
  const replyText = "Sorry about that! A replacement ships today.";
  const reply = await post(`${cxone}/_emu/agent-reply`, { channelId: thread.channelId, threadId: customer, text: replyText });
  const dance = reply.tokenRequested ? "no token → 401 → POST /cxone/dfo/token → called again with it" : "with the token CXone already held";
  console.log(`   ${dance}: tokenRequested ${reply.tokenRequested}, attempts ${reply.attempts}, status ${reply.status}`);
  if (reply.status !== 200) throw new Error(`the bridge answered the agent's reply with ${reply.status}: ${JSON.stringify(reply.answer)}`);
  const replyId = reply.answer.message.idOnExternalPlatform;
  console.log(`   the bridge's answer: message ${replyId}, thread ${reply.answer.thread.idOnExternalPlatform}`);

  step(4, "The reply goes out as an SMS and its delivery reaches DFO (PUT …/messages/{id}/status)");
  await showDelivery(customer, replyText, replyId);

  step(5, "A business system sends a proactive alert (POST /v1/proactive): posted into the customer's thread, then sent");
  const alertTo = recipient(0);
  const alertText = "Your flight UA123 is cancelled. Reply YES to rebook on UA125.";
  const alert = await v1("/v1/proactive", { to: alertTo, text: alertText, campaignId: "irops", idempotencyKey: `demo-${Date.now()}`, from: business, customFields: { flight: "UA123" } });
  console.log(`   ${JSON.stringify(alert)}`);
  await showDelivery(alertTo, alertText, alert.messageId);

  step(6, "The customer answers the alert: the answer lands in the alert's thread and contact, not a new one");
  await post(`${twilio}/_emu/inbound`, { from: alertTo, to: business, body: "YES" });
  const alertThread = await threadWith(alertTo, 2);
  console.log(`   thread ${JSON.stringify(alertThread.threadName)}, contacts ${alertThread.contacts.map((c) => `${c.id} (${c.status})`).join(", ")}`);
  showMessages(alertThread);

  await whatsappDemo();

  console.log("\nDone: an MMS in the customer's thread with its photo, an agent's reply through CXone's OAuth dance sent once with its delivery status, an alert answered in its own thread;");
  console.log("on WhatsApp, a template alert, free text refused outside the 24-hour window, the customer's answer in the alert's thread, and a free-text reply delivered and seen.");
}

/** The DFO status updates for `id` (the bridge's message id), once one of them is `status`; printed as a chain. */
async function statusesUntil(id, status) {
  const history = await until(`the ${status} status in DFO`, async () => {
    const list = (await json(`${cxone}/_emu/statuses`))[id];
    return list?.some((s) => s.status === status) && list;
  });
  console.log(`   DFO status updates for ${id}: ${history.map((s) => `${s.status}${s.reason ? ` (reason ${s.reason})` : ""}`).join(" → ")}`);
  return history;
}

async function whatsappDemo() {
  const waNumber = recipient(40);
  const waCustomer = `whatsapp:${waNumber}`;
  step(7, `WhatsApp: a template alert to ${waNumber} (POST /v1/proactive, channel whatsapp, template flight_update)`);
  const template = { name: "flight_update", parameters: [{ type: "text", text: "AB123" }, { type: "text", text: "18:40" }] };
  const alert = await v1("/v1/proactive", { to: waNumber, channel: "whatsapp", template, campaignId: "irops-whatsapp", idempotencyKey: `demo-wa-${Date.now()}` });
  console.log(`   ${JSON.stringify(alert)}`);
  const thread = await threadWith(waCustomer, 1);
  const smsChannel = (await threadOf(customer))?.channelId;
  console.log(`   thread ${JSON.stringify(thread.threadName)} (idOnExternalPlatform ${thread.threadId}) on channel ${thread.channelId}${thread.channelId === smsChannel ? "" : ` — the WhatsApp sender's, not SMS's ${smsChannel}`}`);
  if (thread.channelId === smsChannel) console.log("   (the WhatsApp sender has no channel of its own in CXONE_DFO_CHANNELS: add \"whatsapp:+15550007000\":\"chat_dev-whatsapp\" as in .dev.vars.example)");
  showMessages(thread);
  showTwilio(await sentWhatsApp(waCustomer, "the template at Twilio", (m) => m.content_sid !== null));
  await statusesUntil(alert.messageId, "seen");

  step(8, "An agent replies in free text before the customer has written: outside WhatsApp's 24-hour window, refused before Twilio");
  const earlyText = "Hello! Shall I look for another flight for you?";
  const early = await post(`${cxone}/_emu/agent-reply`, { channelId: thread.channelId, threadId: waCustomer, text: earlyText });
  if (early.status !== 200) throw new Error(`the bridge answered the agent's reply with ${early.status}: ${JSON.stringify(early.answer)}`);
  console.log(`   the bridge took it (${early.status}): message ${early.answer.message.idOnExternalPlatform}`);
  await statusesUntil(early.answer.message.idOnExternalPlatform, "failed");
  await showNotAtTwilio(earlyText);

  step(9, `The customer answers on WhatsApp (${waCustomer} → ${whatsappSender}, profile name "Ana García"): in the alert's thread, and the window opens`);
  const answer = await whatsappAnswer(waCustomer);
  const answered = await until("the answer in the alert's thread", async () => {
    const t = await threadOf(waCustomer);
    return t?.messages.some((m) => m.idOnExternalPlatform === answer.sid) && t;
  });
  console.log(`   thread ${answered.threadId}: end user ${JSON.stringify(answered.endUser?.firstName)}, contacts ${answered.contacts.map((c) => `${c.id} (${c.status})`).join(", ")}`);
  showMessages(answered, { [early.answer.message.idOnExternalPlatform]: "the agent's reply refused: OUTSIDE_WHATSAPP_WINDOW" });

  step(10, "The agent replies in free text, now inside the window: sent from the WhatsApp sender, delivered, then seen");
  const replyText = "UA411 leaves at 21:05 and has a seat for you. Shall I book it?";
  const reply = await post(`${cxone}/_emu/agent-reply`, { channelId: thread.channelId, threadId: waCustomer, text: replyText });
  if (reply.status !== 200) throw new Error(`the bridge answered the agent's reply with ${reply.status}: ${JSON.stringify(reply.answer)}`);
  console.log(`   the bridge took it (${reply.status}): message ${reply.answer.message.idOnExternalPlatform}`);
  showTwilio(await sentWhatsApp(waCustomer, "the reply at Twilio", (m) => m.body === replyText));
  await statusesUntil(reply.answer.message.idOnExternalPlatform, "seen");
}
