/**
 * What a soak run does, decided up front from its size: which customers text which business
 * numbers, which conversations get agent replies (pushed or left for the poller), who gets a
 * proactive alert and who answers it, who opts out and whose texts the carrier cannot deliver.
 */

/** A small deterministic PRNG (mulberry32), so a seed reproduces a run's workload. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BUSINESSES = ["+15550100001", "+15550100002", "+15550100003", "+15550100004", "+15550100005"];
export const PROACTIVE_SENDER = "+15550100009";

const customer = (i) => `+1646${String(2_000_000 + i).padStart(7, "0")}`;
const recipient = (i) => `+1213${String(3_000_000 + i).padStart(7, "0")}`;
/** Twilio's shape (SM + 32 hex digits): a digit for the kind of text, then its number. */
const sid = (kind, i) => `SM${kind}${String(i).padStart(31, "0")}`;
const TEXT = "1";
const STOP = "2";
const ANSWER = "3";

/**
 * @param {{ messages: number, conversations: number, seed: number }} size
 * Of the messages: a fifth are proactive alerts, a tenth of those are answered, and the rest are
 * split 60/40 between customers' texts and agents' replies.
 */
export function makePlan({ messages, conversations, seed }) {
  const random = rng(seed);
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
  }));
  // Two in a hundred opt out (their last text is STOP); two in a hundred cannot be reached.
  for (const t of threads) {
    const r = random();
    if (r < 0.02) t.optsOut = true;
    else if (r < 0.04) t.undeliverable = true;
  }
  for (let i = 0; i < inboundTotal; i++) {
    const t = threads[i % conversations];
    t.texts.push({ sid: sid(TEXT, i), body: `soak text ${i} from a customer`, replay: random() < 0.1 });
  }
  for (const t of threads) if (t.optsOut) t.texts.push({ sid: sid(STOP, threads.indexOf(t)), body: "STOP", replay: false, stop: true });
  for (let i = 0; i < agentTotal; i++) {
    const t = threads[i % conversations];
    t.replies.push({ tag: `A${i}`, body: `soak reply A${i} from an agent`, push: random() < 0.5 });
  }

  const singles = Math.max(1, Math.round(proactive * 0.1));
  const alerts = Array.from({ length: proactive }, (_, i) => ({
    to: recipient(i),
    text: `soak alert P${i} for you`,
    key: `soak-${seed}-P${i}`,
    single: i < singles,
    reply: i % Math.max(1, Math.floor(proactive / proactiveReplies)) === 0 && Math.floor(i / Math.max(1, Math.floor(proactive / proactiveReplies))) < proactiveReplies,
  }));
  const answers = alerts.filter((a) => a.reply).map((a, i) => ({ ...a, sid: sid(ANSWER, i), body: `soak answer to ${a.key}` }));

  return { threads, alerts, answers, counts: { inbound: inboundTotal + answers.length, agent: agentTotal, proactive, total: inboundTotal + answers.length + agentTotal + proactive } };
}
