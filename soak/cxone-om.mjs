/**
 * CXone's side of a soak in open-messaging mode (contract §3–4), read and driven through the CXone
 * emulator's control routes. The verdict (verify.mjs) reads both dialects through one shape, built
 * here and in cxone-dfo.mjs:
 *  - conversations: { id, customer, business, proactive, channel, displayName, messages: [{ key, sid, direction, text }] },
 *    `key` the id CXone files the message's reports under, `sid` the MessageSid of a customer's text;
 *    `channel` sms or whatsapp (contract §9), `displayName` the customer's name as the agent sees it;
 *  - reports: { [key]: [{ label, final, sent, provider, body, at, answerLost }] } in arrival order;
 *  - replies: { [agent reply id]: { keys, answers, createdAt } }: the ids CXone knows the reply by,
 *    and the instant that orders it among its conversation's replies.
 */
import { json } from "../bench/lib.mjs";
import { cxoneFaults } from "./faults.mjs";

const FINAL = new Set(["DELIVERED", "UNDELIVERABLE", "FAILED"]);

/** What the reports of a message must be: SENT, then the final state; a refusal is FAILED with its code. */
// The carrier's error code is part of an undelivered report in both dialects (the DFO soak found
// one lost on the way: a send found after a lost answer, already undelivered).
// `read`: the report a WhatsApp message gets once the customer read it, after DELIVERED (contract §9).
export const OM_DIALECT = { sentReport: true, labels: { DELIVERED: "DELIVERED", UNDELIVERABLE: "UNDELIVERABLE/30003" }, refused: "FAILED/", read: "READ" };

function report(r) {
  const { body } = r;
  const receipt = body.deliveryReceipt;
  const label = receipt?.status !== body.status ? `${body.status}≠${receipt?.status}` : (body.status === "FAILED" || body.status === "UNDELIVERABLE") && receipt.errorCode ? `${body.status}/${receipt.errorCode}` : body.status;
  return { label, final: FINAL.has(body.status), sent: body.status === "SENT", provider: receipt?.providerMessageId, body, at: r.at, answerLost: r.answerLost };
}

export function openMessagingSide(url, { signal }) {
  const post = (path, body) => fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });
  return {
    mode: "open-messaging",
    dialect: OM_DIALECT,
    faults: cxoneFaults,
    vars: {},
    refusedReplies: new Map(),
    words: {
      read: "READ receipts",
      pairs: "reply pairs pushed in reverse createdTime order",
      unpushed: "replies left in CXone's feed for the poller",
      relisted: "delivered replies listed again by CXone in a shape the bridge cannot send",
    },

    async view() {
      const [conversations, reports, feed] = await Promise.all(["conversations", "reports", "feed"].map((what) => json(`${url}/_emu/${what}`, { signal })));
      const replies = {};
      // The feed orders replies by the createdTime CXone gave them; a listing again keeps it.
      for (const f of feed) replies[f.id] = { keys: [f.id], answers: [], createdAt: Date.parse(f.createdTime), conversationId: f.conversationId, createdTime: f.createdTime };
      return {
        conversations: conversations.map((c) => ({
          id: c.id,
          customer: c.customer,
          business: c.properties?.business_number,
          proactive: c.proactive,
          channel: c.channelType ?? "sms",
          displayName: c.displayName,
          messages: c.messages.map((m) => ({ key: m.id, sid: m.metadata?.twilio_message_sid, direction: m.direction, text: m.text })),
        })),
        reports: Object.fromEntries(Object.entries(reports).map(([key, list]) => [key, list.map(report)])),
        replies,
      };
    },

    /** An agent's reply: in CXone's feed at once, pushed too if asked. True if the bridge took the push. */
    async reply(conversation, r, { push, createdTime }) {
      // A failed push is not retried: the reply is in the feed, and the poller must find it.
      const res = await post("/_emu/agent-reply", { conversationId: conversation.id, id: r.id, body: r.body, push, ...(createdTime ? { createdTime } : {}) }).catch(() => undefined);
      const answer = res?.ok ? await res.json() : undefined;
      return answer?.pushed === 200;
    },

    /** The delivered reply in CXone's feed again, same id, with a recipient the bridge cannot send to. */
    async relist(r, view) {
      const item = view.replies[r.id];
      if (!item) return false;
      await post("/_emu/agent-reply", { conversationId: item.conversationId, id: r.id, body: r.body, to: "not a phone number", createdTime: item.createdTime, push: false }).then((res) => res.text());
      return true;
    },

    /** Nothing is left in flight once the replies were made: the poller picks up the rest. */
    settled: async () => {},

    async stats() {
      const s = await json(`${url}/_emu/stats`, { signal });
      return { faults: s.faults, tokenRequests: s.tokenRequests, note: "", regressions: s.reportRegressions, regressionsName: "reportRegressions" };
    },
  };
}
