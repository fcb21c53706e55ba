/**
 * Drives a soak plan against a running stack the way the outside world would: Twilio delivering
 * customers' texts (and retrying with the same MessageSid until the bridge answers 200), CXone
 * agents replying (pushed, or left in the feed for the poller), a business system sending
 * proactive alerts (retrying with the same idempotency key), customers answering them.
 */
import { json, sleep } from "../bench/lib.mjs";
import { PROACTIVE_SENDER } from "./plan.mjs";

const RETRY_FOR_MS = 300_000;

/** Runs `task` over `items` with at most `limit` at once; `onProgress(done)` after each. */
export async function pool(items, limit, task, onProgress = () => {}) {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await task(item);
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Tries until `attempt` returns true (a bridge restarting, an injected fault); throws after RETRY_FOR_MS. */
async function persist(what, attempt) {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (let wait = 200; ; wait = Math.min(wait * 2, 2_000)) {
    // A refusal (4xx) will not change on retry: a bug in the plan or the bridge, stop here.
    if (await attempt().catch((err) => { if (err.refused) throw err; return false; })) return;
    if (Date.now() > deadline) throw new Error(`gave up on ${what}`);
    await sleep(wait);
  }
}

export function driver(stack, tokens) {
  const { bridgeUrl, twilioUrl, cxoneUrl } = stack;
  const post = (url, body, headers = {}) => fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  return {
    /** Twilio's webhook, signed by the emulator; the same MessageSid until the bridge says 200. */
    async text(from, to, body, sid) {
      await persist(`the webhook for ${sid}`, async () => {
        const res = await post(`${twilioUrl}/_emu/inbound`, { from, to, body, sid });
        const status = res.ok ? (await res.json()).status : 0;
        if (status >= 400 && status < 500) throw Object.assign(new Error(`the bridge refused the webhook for ${sid}: ${status}`), { refused: true });
        return status === 200;
      });
    },

    /** An agent's reply with a known id: in CXone's feed at once, pushed too if asked. */
    async reply(conversationId, id, body, push) {
      // A failed push is not retried: the reply is in the feed, and the poller must find it.
      await post(`${cxoneUrl}/_emu/agent-reply`, { conversationId, id, body, push }).then((r) => r.text(), () => undefined);
    },

    async proactive(body) {
      let answer;
      await persist(`the proactive request ${body.idempotencyKey ?? body.campaignId}`, async () => {
        const res = await post(`${bridgeUrl}/v1/proactive`, body, { authorization: `Bearer ${tokens.API_TOKEN}` });
        if (res.status >= 500) return false;
        answer = await res.json();
        if (!res.ok) throw Object.assign(new Error(`proactive refused: ${res.status} ${JSON.stringify(answer)}`), { refused: true });
        return true;
      });
      return answer;
    },

    setOutcome: (phone, outcome) => post(`${twilioUrl}/_emu/outcome/${encodeURIComponent(phone)}`, outcome).then((r) => r.text()),
    conversations: () => json(`${cxoneUrl}/_emu/conversations`),
    reports: () => json(`${cxoneUrl}/_emu/reports`),
    cxoneStats: () => json(`${cxoneUrl}/_emu/stats`),
    sent: () => json(`${twilioUrl}/_emu/messages`),
    deadLetters: () => json(`${bridgeUrl}/admin/dead-letters?limit=500`, { headers: { authorization: `Bearer ${tokens.ADMIN_TOKEN}` } }),
  };
}

/** Every thread's conversation id once CXone has its first text; waits for the stragglers. */
export async function conversationsOf(d, threads, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const byCustomer = new Map();
    for (const c of await d.conversations()) if (!c.proactive) byCustomer.set(`${c.customer} ${c.properties?.business_number}`, c.id);
    const missing = threads.filter((t) => !byCustomer.has(`${t.customer} ${t.business}`));
    if (missing.length === 0) return byCustomer;
    if (Date.now() > deadline) throw new Error(`${missing.length} threads never reached CXone`);
    await sleep(1_000);
  }
}

/** Customers answer their alert once the SMS has reached them. */
export async function answerAlerts(d, answers, timeoutMs) {
  const waiting = new Set(answers);
  const deadline = Date.now() + timeoutMs;
  while (waiting.size > 0) {
    const sent = new Set((await d.sent()).map((m) => m.body));
    const ready = [...waiting].filter((a) => sent.has(a.text));
    await pool(ready, 8, async (a) => {
      await d.text(a.to, PROACTIVE_SENDER, a.body, a.sid);
      waiting.delete(a);
    });
    if (waiting.size === 0) break;
    if (Date.now() > deadline) throw new Error(`${waiting.size} alerts never reached their recipients`);
    await sleep(1_000);
  }
}
