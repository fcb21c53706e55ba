/**
 * What a soak run does, decided up front from its size and seed: which customers text which
 * business numbers, which conversations get agent replies (pushed or left for the poller, some
 * pushed in reverse createdTime order), who gets a proactive alert and who answers it, who opts
 * out or back in (STOP/START pairs), whose texts the carrier cannot deliver, which texts carry
 * Twilio's empty optional fields and which text's first D1 write is made to fail.
 */
import { seededRandom } from "../emulators/random.mjs";

export const BUSINESSES = ["+15550100001", "+15550100002", "+15550100003", "+15550100004", "+15550100005"];
/** Alerts name a Messaging Service, not a number: the soak's bridge has no default sender number. */
export const PROACTIVE_SENDER = `MG${"5".repeat(32)}`;

const customer = (i) => `+1646${String(2_000_000 + i).padStart(7, "0")}`;
const recipient = (i) => `+1213${String(3_000_000 + i).padStart(7, "0")}`;
/** Twilio's shape (SM + 32 hex digits): a digit for the kind of text, then its number. */
const sid = (kind, i) => `SM${kind}${String(i).padStart(31, "0")}`;
const TEXT = "1";
const STOP = "2";
const ANSWER = "3";
const KEYWORD = "4";
/** Texts whose first D1 write fails (soak/faults.mjs installs the trigger that keys on this digit). */
export const D1_FAULT_KIND = "5";

const OPTIONAL_FIELDS = ["OptOutType", "NumSegments", "FromCity", "ErrorCode"];
const STOPS = ["STOP", "Stop", "stop."];
const STARTS = ["START", "Start", "start!"];

/**
 * @param {{ messages: number, conversations: number, seed: number }} size
 * Of the messages: a fifth are proactive alerts, a tenth of those are answered, and the rest are
 * split 60/40 between customers' texts and agents' replies; on top of that, a tenth of the
 * threads end with a keyword pair and about 15% get a pair of replies pushed in reverse order.
 */
export function makePlan({ messages, conversations, seed }) {
  const random = seededRandom(seed, "plan");
  const pick = (list) => list[Math.floor(random() * list.length)];
  const proactive = Math.max(4, Math.round(messages * 0.2));
  const proactiveReplies = Math.max(1, Math.round(proactive * 0.1));
  const rest = messages - proactive - proactiveReplies;
  const inboundTotal = Math.max(conversations, Math.round(rest * 0.6));
  const agentTotal = Math.max(1, rest - inboundTotal);

  const threads = Array.from({ length: conversations }, (_, i) => ({
    customer: customer(i),
    business: BUSINESSES[i % BUSINESSES.length],
    texts: [],
    replies: [],
    optsOut: false,
    undeliverable: false,
    /** "start-stop" or "stop-start": the thread's last two texts. */
    keywords: undefined,
  }));
  // Two in a hundred opt out (their last text is STOP); two in a hundred cannot be reached.
  for (const t of threads) {
    const r = random();
    if (r < 0.02) t.optsOut = true;
    else if (r < 0.04) t.undeliverable = true;
  }
  for (let i = 0; i < inboundTotal; i++) {
    const t = threads[i % conversations];
    // Twilio posts an empty value for a field it has nothing for; such a text must not be refused.
    const empty = random() < 0.2 ? ["MessagingServiceSid", ...OPTIONAL_FIELDS.filter(() => random() < 0.5)] : [];
    t.texts.push({ sid: sid(TEXT, i), body: `soak text ${i} from a customer`, replay: random() < 0.1, emptyFields: empty });
  }
  for (const t of threads) if (t.optsOut) t.texts.push({ sid: sid(STOP, threads.indexOf(t)), body: "STOP", replay: false, emptyFields: [], keyword: "STOP" });

  // Keyword pairs and reverse-pushed replies go to threads of their own, and keywords carry no
  // empty fields, so that each check judges one thing: a thread whose replies are refused says
  // nothing about reply order, a lost keyword nothing about the order keywords take effect in.
  const others = shuffle(threads.filter((t) => !t.optsOut && !t.undeliverable), random);
  const pairs = others.slice(0, Math.max(3, Math.round(conversations * 0.1)));
  const reversed = others.slice(pairs.length, pairs.length + Math.max(2, Math.round(conversations * 0.15)));
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

  const singles = Math.max(1, Math.round(proactive * 0.1));
  const every = Math.max(1, Math.floor(proactive / proactiveReplies));
  const alerts = Array.from({ length: proactive }, (_, i) => ({
    to: recipient(i),
    text: `soak alert P${i} for you`,
    key: `soak-${seed}-P${i}`,
    single: i < singles,
    reply: i % every === 0 && Math.floor(i / every) < proactiveReplies,
  }));
  const answers = alerts.filter((a) => a.reply).map((a, i) => ({ ...a, sid: sid(ANSWER, i), body: `soak answer to ${a.key}` }));

  const inbound = threads.reduce((n, t) => n + t.texts.length, 0) + answers.length;
  const agent = threads.reduce((n, t) => n + t.replies.length, 0);
  return { seed, threads, alerts, answers, counts: { inbound, agent, proactive, total: inbound + agent + proactive } };
}

function shuffle(list, random) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
