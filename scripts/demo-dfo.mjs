/**
 * `npm run demo` against `CXONE_API_MODE=dfo npm run dev` (contract §8): the customer's MMS lands in
 * their DFO thread with the photo uploaded as a temporary attachment; an agent's reply reaches the
 * bridge through CXone's side of the OAuth dance, goes out as an SMS, and its delivery is reported
 * back to DFO; a proactive alert is posted into the customer's thread and their answer joins it.
 */
import { randomBytes } from "node:crypto";
import { business, customer, cxone, json, post, recipient, sentSms, step, twilio, until, v1 } from "./demo-lib.mjs";

// A 1×1 PNG: small enough to read in a log, real enough for any image viewer.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

const threadOf = async (phone) => (await json(`${cxone}/_emu/threads`)).find((t) => t.threadId === phone);
const threadWith = (phone, n) =>
  until(`${n} message(s) in the DFO thread of ${phone}`, async () => {
    const t = await threadOf(phone);
    return t && t.messages.length >= n && t;
  });
const showMessages = (thread) => {
  for (const m of thread.messages) {
    const fields = m.customFields ? `  customFields ${m.customFields.map((f) => `${f.ident}=${f.value}`).join(", ")}` : "";
    console.log(`     [${m.direction}] ${JSON.stringify(m.text)}  (idOnExternalPlatform ${m.idOnExternalPlatform}, contact ${m.contactId})${fields}`);
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

  console.log("\nDone: an MMS in the customer's thread with its photo, an agent's reply through CXone's OAuth dance sent once with its delivery status, an alert answered in its own thread.");
}
