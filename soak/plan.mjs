/**
 * What a soak run does, decided up front from its size and seed: which customers text which
 * business numbers, which conversations get agent replies (pushed or left for the poller, some
 * pushed in reverse createdTime order), who gets a proactive alert and who answers it, who opts
 * out or back in (STOP/START pairs), whose texts the carrier cannot deliver, which texts carry
 * Twilio's empty optional fields and which text's first D1 write is made to fail.
 *
 * WhatsApp (contract §9) has a share of its own: every eighth customer thread is on WhatsApp — the
 * same number as the SMS thread before it, written from `whatsapp:` to the WhatsApp sender, so the
 * two threads must stay apart — and about an eighth of the alerts are WhatsApp templates. Some of
 * those are answered (the answer opens the 24-hour window, and an agent's reply into the alert's
 * conversation is then sent), some are not, and an agent's reply to those must be refused without
 * reaching Twilio; a free-text WhatsApp alert to someone who never wrote must be refused too.
 */
import { seededRandom } from "../emulators/random.mjs";

export const BUSINESSES = ["+15550100001", "+15550100002", "+15550100003", "+15550100004", "+15550100005"];
/** Alerts name a Messaging Service, not a number: the soak's bridge has no default sender number. */
export const PROACTIVE_SENDER = `MG${"5".repeat(32)}`;
/** The soak's one WhatsApp sender (the bridge's WHATSAPP_FROM_NUMBER): its texts, replies and templates. */
export const WHATSAPP_SENDER = "whatsapp:+15550007000";
/**
 * The templates the soak's bridge knows (WHATSAPP_TEMPLATES) and the Twilio emulator renders
 * (EMU_WHATSAPP_TEMPLATES): name[:language] → Content SID and text.
 */
export const TEMPLATES = {
  flight_update: { sid: `HX${"a".repeat(31)}1`, text: "Flight {{1}} is delayed. New departure: {{2}}." },
  "flight_update:es": { sid: `HX${"a".repeat(31)}2`, text: "Vuelo {{1}} retrasado. Nueva salida: {{2}}." },
};
/** A template filled in, as Twilio renders it for the customer. */
export const renderTemplate = (key, variables) => TEMPLATES[key].text.replace(/\{\{(\w+)\}\}/g, (_, n) => variables[n]);
/** What the agent sees in CXone for a template send (the bridge's templateText). */
export const templateCxoneText = (key, variables) => `[WhatsApp template ${key}] ${Object.entries(variables).map(([k, v]) => `{{${k}}} ${v}`).join(" · ")}`;
/** A number's WhatsApp address. */
export const onWhatsApp = (phone) => `whatsapp:${phone}`;
export const isWhatsApp = (address) => typeof address === "string" && address.startsWith("whatsapp:");

const customer = (i) => `+1646${String(2_000_000 + i).padStart(7, "0")}`;
const recipient = (i) => `+1213${String(3_000_000 + i).padStart(7, "0")}`;
const whatsappRecipient = (i) => `+1415${String(5_000_000 + i).padStart(7, "0")}`;
/** Twilio's shape (SM + 32 hex digits): a digit for the kind of text, then its number. */
const sid = (kind, i) => `SM${kind}${String(i).padStart(31, "0")}`;
const TEXT = "1";
const STOP = "2";
const ANSWER = "3";
const KEYWORD = "4";
/** Texts whose first D1 write fails (soak/faults.mjs installs the trigger that keys on this digit). */
export const D1_FAULT_KIND = "5";

const OPTIONAL_FIELDS = ["OptOutType", "NumSegments", "FromCity", "ErrorCode"];
/** Fields a WhatsApp webhook may carry empty: a button reply's, a location's. */
const WHATSAPP_OPTIONAL_FIELDS = ["OptOutType", "ButtonText", "ButtonPayload", "Latitude", "Longitude", "ErrorCode"];
/** Every eighth thread is on WhatsApp (the one before it is the same number on SMS). */
const WHATSAPP_EVERY = 8;
const STOPS = ["STOP", "Stop", "stop."];
const STARTS = ["START", "Start", "start!"];

/**
 * @param {{ messages: number, conversations: number, seed: number }} size
 * Of the messages: a fifth are proactive alerts, a tenth of those are answered, and the rest are
 * split 60/40 between customers' texts and agents' replies; on top of that, a tenth of the
 * threads end with a keyword pair and about 15% get a pair of replies pushed in reverse order.
 * WhatsApp: every eighth thread, about 12% of the alerts (templates), the agents' replies into
 * those alerts' conversations and a few free-text WhatsApp alerts on top (`counts.whatsapp`).
 */
export function makePlan({ messages, conversations, seed }) {
  const random = seededRandom(seed, "plan");
  const pick = (list) => list[Math.floor(random() * list.length)];
  const proactive = Math.max(4, Math.round(messages * 0.2));
  const proactiveReplies = Math.max(1, Math.round(proactive * 0.1));
  const remaining = messages - proactive - proactiveReplies;
  const inboundTotal = Math.max(conversations, Math.round(remaining * 0.6));
  const agentTotal = Math.max(1, remaining - inboundTotal);

  const threads = Array.from({ length: conversations }, (_, i) => {
    const whatsapp = i % WHATSAPP_EVERY === WHATSAPP_EVERY - 1;
    return {
      // On WhatsApp: the number of the SMS thread before it, a thread of its own.
      customer: whatsapp ? onWhatsApp(customer(i - 1)) : customer(i),
      business: whatsapp ? WHATSAPP_SENDER : BUSINESSES[i % BUSINESSES.length],
      whatsapp,
      /** WhatsApp: the profile name Twilio passes on, shown to the agent as the customer's name. */
      profileName: whatsapp ? `Soak WA ${i}` : undefined,
      texts: [],
      replies: [],
      optsOut: false,
      undeliverable: false,
      /** "start-stop" or "stop-start": the thread's last two texts. */
      keywords: undefined,
    };
  });
  // Two in a hundred opt out (their last text is STOP); two in a hundred cannot be reached.
  for (const t of threads) {
    const r = random();
    if (r < 0.02) t.optsOut = true;
    else if (r < 0.04) t.undeliverable = true;
  }
  for (let i = 0; i < inboundTotal; i++) {
    const t = threads[i % conversations];
    // Twilio posts an empty value for a field it has nothing for; such a text must not be refused.
    const empty = random() < 0.2 ? ["MessagingServiceSid", ...(t.whatsapp ? WHATSAPP_OPTIONAL_FIELDS : OPTIONAL_FIELDS).filter(() => random() < 0.5)] : [];
    t.texts.push({ sid: sid(TEXT, i), body: `soak text ${i} from a customer`, replay: random() < 0.1, emptyFields: empty });
  }
  for (const t of threads) if (t.optsOut) t.texts.push({ sid: sid(STOP, threads.indexOf(t)), body: "STOP", replay: false, emptyFields: [], keyword: "STOP" });

  // Keyword pairs and reverse-pushed replies go to threads of their own, and keywords carry no
  // empty fields, so that each check judges one thing: a thread whose replies are refused says
  // nothing about reply order, a lost keyword nothing about the order keywords take effect in.
  const others = shuffle(threads.filter((t) => !t.optsOut && !t.undeliverable), random);
  // WhatsApp threads get their share of the keyword pairs, and at least two.
  const pairCount = Math.max(3, Math.round(conversations * 0.1));
  const whatsappOthers = others.filter((t) => t.whatsapp);
  const whatsappPairs = Math.min(whatsappOthers.length, Math.max(2, Math.round((pairCount * whatsappOthers.length) / Math.max(1, others.length))));
  const pairs = [...whatsappOthers.slice(0, whatsappPairs), ...others.filter((t) => !t.whatsapp).slice(0, pairCount - whatsappPairs)];
  const rest = others.filter((t) => !pairs.includes(t));
  const reversed = rest.slice(0, Math.max(2, Math.round(conversations * 0.15)));
  pairs.forEach((t, n) => {
    const i = threads.indexOf(t);
    // Every third pair: the START's first D1 write fails and is repaired after the STOP was taken.
    const kind = ["start-stop", "stop-start", "start-stop"][n % 3];
    const failFirstWrite = n % 3 === 0;
    t.keywords = kind;
    const [first, second] = kind === "start-stop" ? [pick(STARTS), pick(STOPS)] : [pick(STOPS), pick(STARTS)];
    t.texts.push({ sid: sid(failFirstWrite ? D1_FAULT_KIND : KEYWORD, 2 * i), body: first, replay: false, emptyFields: [], keyword: first, d1Fault: failFirstWrite });
    t.texts.push({ sid: sid(KEYWORD, 2 * i + 1), body: second, replay: random() < 0.1, emptyFields: [], keyword: second });
  });
  reversed.forEach((t, n) => {
    // Pushed first with the later createdTime; the bridge must still send `a` before `b`.
    t.replies.push(
      { tag: `R${n}a`, body: `soak reply R${n}a from an agent`, push: true, reverse: "earlier" },
      { tag: `R${n}b`, body: `soak reply R${n}b from an agent`, push: true, reverse: "later" },
    );
  });
  for (let i = 0; i < agentTotal; i++) {
    const t = threads[i % conversations];
    // One in twenty comes back later in CXone's feed, same id, in a shape the bridge cannot send:
    // that must never turn the reply's final report into FAILED.
    t.replies.push({ tag: `A${i}`, body: `soak reply A${i} from an agent`, push: random() < 0.5, relistInvalid: random() < 0.05 });
  }
  for (const t of threads) {
    t.suppressed = t.optsOut || t.keywords === "start-stop";
    for (const r of t.replies) r.id = `soak-${r.tag}`;
  }

  // About an eighth of the alerts are WhatsApp templates; a quarter of those are answered, and
  // an agent replies into a quarter of the others, where the window never opened.
  const whatsappAlerts = Math.max(4, Math.round(proactive * 0.12));
  const smsAlerts = Math.max(1, proactive - whatsappAlerts);
  const whatsappAnswered = Math.max(1, Math.round(whatsappAlerts * 0.25));
  const whatsappOutside = Math.max(1, Math.round(whatsappAlerts * 0.25));
  const smsAnswered = Math.max(1, proactiveReplies - whatsappAnswered);

  const singles = Math.max(1, Math.round(smsAlerts * 0.1));
  const every = Math.max(1, Math.floor(smsAlerts / smsAnswered));
  const alerts = Array.from({ length: smsAlerts }, (_, i) => ({
    to: recipient(i),
    text: `soak alert P${i} for you`,
    key: `soak-${seed}-P${i}`,
    single: i < singles,
    reply: i % every === 0 && Math.floor(i / every) < smsAnswered,
  }));
  // WhatsApp alerts: singles first (some naming the sender, the others left to WHATSAPP_FROM_NUMBER),
  // then one batch; one in three in Spanish; the last recipient of the batch gets the batch's own
  // template. Each flight number is the alert's own, so its text tells it apart at Twilio and in CXone.
  const whatsappSingles = Math.max(2, Math.round(whatsappAlerts * 0.25));
  const batchDefault = { name: "flight_update", parameters: [{ type: "text", text: `WA${seed}X` }, { type: "text", text: "06:05" }] };
  const whatsappList = Array.from({ length: whatsappAlerts }, (_, j) => {
    const single = j < whatsappSingles;
    const byDefault = !single && j === whatsappAlerts - 1;
    const language = j % 3 === 2 && !byDefault ? "es" : undefined;
    const template = byDefault ? batchDefault : { name: "flight_update", ...(language ? { language } : {}), parameters: [{ type: "text", text: `WA${seed}-${j}` }, { type: "text", text: `${String(6 + (j % 16)).padStart(2, "0")}:${String((j * 7) % 60).padStart(2, "0")}` }] };
    const templateKey = template.language ? `${template.name}:${template.language}` : template.name;
    const variables = Object.fromEntries(template.parameters.map((p, n) => [String(n + 1), p.text]));
    return {
      to: whatsappRecipient(j),
      address: onWhatsApp(whatsappRecipient(j)),
      whatsapp: true,
      template,
      byDefault,
      templateKey,
      contentSid: TEMPLATES[templateKey].sid,
      variables,
      text: renderTemplate(templateKey, variables),
      cxoneText: templateCxoneText(templateKey, variables),
      key: `soak-${seed}-W${j}`,
      single,
      from: single && j % 2 === 0 ? WHATSAPP_SENDER : undefined,
      reply: false,
      outside: false,
    };
  });
  // Answered and unanswered spread over singles and the batch: every other one until each has its count.
  let answered = 0;
  let outside = 0;
  whatsappList.forEach((a, j) => {
    if (j % 2 === 0 && answered < whatsappAnswered) (a.reply = true), (answered += 1);
    else if (j % 2 === 1 && outside < whatsappOutside) (a.outside = true), (outside += 1);
  });
  for (const a of whatsappList) if (!a.reply && !a.outside && answered < whatsappAnswered) (a.reply = true), (answered += 1);
  for (const a of whatsappList) if (!a.reply && !a.outside && outside < whatsappOutside) (a.outside = true), (outside += 1);
  alerts.push(...whatsappList);

  const answers = alerts.filter((a) => a.reply).map((a, i) => ({ ...a, sid: sid(ANSWER, i), body: `soak answer to ${a.key}`, profileName: a.whatsapp ? `Soak WA answer ${i}` : undefined }));
  // Agents' replies into WhatsApp alerts' conversations: after the answer (inside the window: sent),
  // or where nobody answered (outside it: refused before Twilio). Half pushed, half left for the poll.
  const alertReplies = whatsappList
    .filter((a) => a.reply || a.outside)
    .map((a, n) => ({ tag: `W${n}`, id: `soak-W${n}`, body: `soak reply W${n} from an agent${a.outside ? " (no window)" : ""}`, alertKey: a.key, push: n % 2 === 0, outside: a.outside, answerSid: answers.find((x) => x.key === a.key)?.sid }));
  // Free text on WhatsApp to someone who never wrote: refused by the bridge, nothing sent or opened.
  const freeText = Array.from({ length: Math.max(1, Math.round(whatsappAlerts * 0.05)) }, (_, k) => ({
    to: whatsappRecipient(whatsappAlerts + k),
    address: onWhatsApp(whatsappRecipient(whatsappAlerts + k)),
    text: `soak free-text WhatsApp alert F${k}`,
    key: `soak-${seed}-F${k}`,
  }));

  const inbound = threads.reduce((n, t) => n + t.texts.length, 0) + answers.length;
  const agent = threads.reduce((n, t) => n + t.replies.length, 0) + alertReplies.length;
  const whatsappThreads = threads.filter((t) => t.whatsapp);
  const whatsapp = {
    threads: whatsappThreads.length,
    texts: whatsappThreads.reduce((n, t) => n + t.texts.length, 0) + answers.filter((a) => a.whatsapp).length,
    replies: whatsappThreads.reduce((n, t) => n + t.replies.length, 0) + alertReplies.filter((r) => !r.outside).length,
    alerts: whatsappList.length,
    answered: whatsappAnswered,
    outside: alertReplies.filter((r) => r.outside).length,
    freeText: freeText.length,
    pairs: whatsappThreads.filter((t) => t.keywords).length,
    optOuts: whatsappThreads.filter((t) => t.optsOut).length,
  };
  whatsapp.total = whatsapp.texts + whatsapp.replies + whatsapp.alerts + whatsapp.outside + whatsapp.freeText;
  return { seed, threads, alerts, answers, alertReplies, freeText, counts: { inbound, agent, proactive: alerts.length + freeText.length, total: inbound + agent + alerts.length + freeText.length, whatsapp } };
}

function shuffle(list, random) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
