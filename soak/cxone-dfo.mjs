/**
 * CXone's side of a soak in DFO mode (contract §8), through the DFO emulator's control routes, in the
 * shape cxone-om.mjs describes. What differs from open-messaging:
 *  - a conversation is a DFO thread (channel, customer); a customer's text is in it under its
 *    MessageSid (idOnExternalPlatform), an alert under the bridge's id;
 *  - reports are status updates of final states only (no SENT), filed under the bridge's id;
 *  - CXone calls the bridge for every reply and holds no cursor: there is no poller to find a
 *    reply later, so a reply that is not "pushed" is one whose first call the bridge took but whose
 *    answer never reached CXone, delivered again a few seconds later — still one SMS;
 *  - the bridge orders replies by when it took them, not by a time CXone gives: the instant it
 *    answered with (the same for a repeat) is what the verdict orders them by.
 */
import { json } from "../bench/lib.mjs";
import { seededRandom } from "../emulators/random.mjs";
import { sleep } from "./drive.mjs";
import { dfoFaults } from "./faults.mjs";
import { BUSINESSES, PROACTIVE_SENDER, WHATSAPP_SENDER } from "./plan.mjs";

/**
 * A channel per business sender, so that each reply is sent from the number its customer texted;
 * the WhatsApp sender has its own (contract §9), where a customer's WhatsApp thread is apart from
 * their SMS one.
 */
export const CHANNELS = Object.fromEntries([...BUSINESSES.map((b, i) => [b, `sms_soak-${i + 1}`]), [PROACTIVE_SENDER, "sms_soak-alerts"], [WHATSAPP_SENDER, "whatsapp_soak"], ["*", "sms_soak-default"]]);
const BUSINESS_OF = new Map(Object.entries(CHANNELS).filter(([sender]) => sender !== "*").map(([sender, channel]) => [channel, sender]));

/** delivered (on WhatsApp a read receipt follows as seen), or failed with the error code; a refusal is failed with its code. */
export const DFO_DIALECT = { sentReport: false, labels: { DELIVERED: "delivered", UNDELIVERABLE: "failed/30003" }, refused: "failed/", read: "seen" };

/** The redelivery of a reply whose answer was lost comes this long after (drawn per reply). */
const REDELIVER_MS = [1_000, 8_000];
const RETRY_FOR_MS = 300_000;

function report(r) {
  const body = { status: r.status, updatedAt: r.updatedAt, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
  const label = r.status === "failed" && r.reason ? `failed/${r.reason}` : r.status;
  return { label, final: true, sent: false, provider: undefined, body, at: r.at, answerLost: r.answerLost };
}

export function dfoSide(url, { signal, seed }) {
  const random = seededRandom(seed, "dfo-redelivery");
  /** Reply id → every answer the bridge gave it ({ key, createdAt }), the lost ones included. */
  const answers = new Map();
  /** Reply id → why the bridge refused it (a 4xx CXone would not retry). */
  const refusedReplies = new Map();
  const redeliveries = [];
  /** Reply id → the conversation it went into, for handing it over again. */
  const conversationOf = new Map();

  /**
   * One reply delivered by the emulator (CXone's 401 → token → retry dance included), again while
   * the bridge answers 5xx, cannot be reached or times out — as CXone retries a callback; a 4xx is
   * a refusal and is not retried. Returns the bridge's final answer, and whether it took the first call.
   */
  async function deliver(input) {
    const deadline = Date.now() + RETRY_FOR_MS;
    for (let wait = 200, first = true; ; wait = Math.min(wait * 2, 2_000), first = false) {
      const res = await fetch(`${url}/_emu/agent-reply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input), signal }).catch(() => undefined);
      const result = res?.status === 201 ? await res.json() : (await res?.arrayBuffer(), undefined);
      // A 401 after the dance: the bridge's token endpoint failed (a restart); CXone tries again.
      if (result && result.status < 500 && ![401, 408, 429].includes(result.status)) return Object.assign(result, { first });
      if (Date.now() > deadline) throw new Error(`gave up delivering the reply ${input.id}`);
      await sleep(wait, signal);
    }
  }

  function record(r, result) {
    if (result.status !== 200) {
      refusedReplies.set(r.id, `${result.status} ${JSON.stringify(result.answer).slice(0, 200)}`);
      return;
    }
    const message = result.answer?.message ?? {};
    const key = message.idOnExternalPlatform ?? result.answer?.idOnExternalPlatform;
    answers.set(r.id, [...(answers.get(r.id) ?? []), { key, createdAt: Date.parse(message.createdAtWithMilliseconds) }]);
  }

  return {
    mode: "dfo",
    dialect: DFO_DIALECT,
    faults: dfoFaults,
    vars: {
      CXONE_API_MODE: "dfo",
      CXONE_ACCESS_KEY_ID: "soak-access-key-id",
      CXONE_ACCESS_KEY_SECRET: "soak-access-key-secret",
      CXONE_BYOC_CLIENT_ID: "soak-byoc-client",
      CXONE_BYOC_CLIENT_SECRET: "soak-byoc-secret",
      CXONE_DFO_CHANNELS: JSON.stringify(CHANNELS),
    },
    refusedReplies,
    words: {
      read: "seen statuses",
      pairs: "reply pairs delivered 40 ms apart (sent in the order the bridge took them)",
      unpushed: "replies whose first answer was lost and that CXone delivered again",
      relisted: "delivered replies delivered again by CXone, same id, to a recipient the bridge cannot send to",
    },

    async view() {
      const [threads, statuses] = await Promise.all(["threads", "statuses"].map((what) => json(`${url}/_emu/${what}`, { signal })));
      const replies = {};
      for (const [id, list] of answers) replies[id] = { keys: [...new Set(list.map((a) => a.key))], answers: list, createdAt: list.at(-1).createdAt };
      const conversations = threads.map((t) => {
        for (const m of t.messages.filter((x) => x.agentReply?.cxoneMessageId)) {
          const entry = (replies[m.agentReply.cxoneMessageId] ??= { keys: [], answers: [], createdAt: undefined });
          if (!entry.keys.includes(m.idOnExternalPlatform)) entry.keys.push(m.idOnExternalPlatform);
        }
        // The bridge posts a customer's texts and its alerts; agents' replies are CXone's own.
        const posted = t.messages.filter((m) => !m.agentReply);
        return {
          id: t.id,
          channelId: t.channelId,
          customer: t.threadId,
          business: BUSINESS_OF.get(t.channelId) ?? `channel ${t.channelId}`,
          proactive: posted.some((m) => m.direction === "outbound"),
          channel: t.channelId === CHANNELS[WHATSAPP_SENDER] ? "whatsapp" : "sms",
          // The end user as DFO shows them: on WhatsApp, the profile name of their latest message.
          displayName: t.endUser?.firstName,
          messages: posted.map((m) => ({ key: m.idOnExternalPlatform, sid: m.direction === "inbound" ? m.idOnExternalPlatform : undefined, direction: m.direction, text: m.text })),
        };
      });
      return { conversations, reports: Object.fromEntries(Object.entries(statuses).map(([key, list]) => [key, list.map(report)])), replies };
    },

    /** An agent's reply into the customer's thread; `push: false`, its first answer is lost (see above). Always taken or refused. */
    async reply(conversation, r, { push }) {
      const input = { channelId: conversation.channelId, threadId: conversation.customer, text: r.body, id: r.id };
      conversationOf.set(r.id, conversation);
      if (push) {
        // A reply the bridge did not take at the first call (a restart, a timeout) reaches its queue
        // only with CXone's retry, maybe after a later reply went: as a push the bridge did not take.
        const result = await deliver(input);
        record(r, result);
        return result.first;
      }
      const first = await deliver({ ...input, answerLost: true });
      if (first.status !== 200) {
        record(r, first);
        return true;
      }
      // The soak saw the lost answer; CXone did not: the verdict holds the repeat's answer to it.
      record(r, first);
      const delay = REDELIVER_MS[0] + random() * (REDELIVER_MS[1] - REDELIVER_MS[0]);
      // Kept as a value: a failure surfaces when the run waits for the redeliveries, not as a crash.
      redeliveries.push(sleep(delay, signal).then(async () => record(r, await deliver(input))).catch((err) => err));
      return true;
    },

    /** The delivered reply once more, same CXone id, to a recipient the bridge cannot send to. */
    async relist(r) {
      const conversation = conversationOf.get(r.id);
      if (!conversation) return false;
      await deliver({ channelId: conversation.channelId, threadId: "not a phone number", text: r.body, id: r.id });
      return true;
    },

    /** Every redelivery made: only then can CXone know every reply, and take its reports. */
    async settled() {
      const failed = (await Promise.all(redeliveries)).find((x) => x instanceof Error);
      if (failed) throw failed;
    },

    async stats() {
      const s = await json(`${url}/_emu/stats`, { signal });
      return {
        faults: s.faults,
        tokenRequests: s.tokenRequests,
        note: `; ${s.callbacks} reply calls to the bridge, ${s.unauthorizedCallbacks} answered 401, ${s.bridgeTokenRequests} tokens from the bridge`,
        regressions: s.statusRegressions,
        regressionsName: "statusRegressions",
      };
    },
  };
}
