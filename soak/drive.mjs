/**
 * Drives a soak plan against a running stack the way the outside world would: Twilio delivering
 * customers' texts (and retrying with the same MessageSid until the bridge answers 200), CXone
 * agents replying (through the dialect's adapter, cxone-om.mjs or cxone-dfo.mjs), a business
 * system sending proactive alerts (retrying with the same idempotency key), customers answering them.
 * What the bridge refuses (a 4xx) is not retried, as Twilio would not: it is recorded, said out
 * loud, and left to the verdict as lost.
 */
import { json } from "../bench/lib.mjs";

const RETRY_FOR_MS = 300_000;
/** OUTBOUND_ORDER_WINDOW_MS as the soak's stack runs it (the default, src/config.ts). */
const ORDER_WINDOW_MS = 250;

/** setTimeout as a promise that rejects as soon as `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs `task` over `items` with at most `limit` at once; `onProgress(done)` after each. */
export async function pool(items, limit, task, onProgress = () => {}, signal) {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const item = items[next++];
      await task(item);
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Tries until `attempt` returns true (a bridge restarting, an injected fault); throws after RETRY_FOR_MS. */
async function persist(what, attempt, signal) {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (let wait = 200; ; wait = Math.min(wait * 2, 2_000)) {
    if (await attempt().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`gave up on ${what}`);
    await sleep(wait, signal);
  }
}

const reasonOf = (status, text) => {
  try {
    const body = JSON.parse(text);
    return `${status} ${body.error ?? ""}: ${body.message ?? text}`.slice(0, 200);
  } catch {
    return `${status} ${text.slice(0, 200)}`;
  }
};

export function driver(stack, tokens, { signal, say = () => {} } = {}) {
  const { bridgeUrl, twilioUrl } = stack;
  const post = (url, body, headers = {}) => fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body), signal });
  const admin = { headers: { authorization: `Bearer ${tokens.ADMIN_TOKEN}` }, signal };
  /** MessageSid → why the bridge refused its webhook; idempotency key → why it refused the alert. */
  const refusedTexts = new Map();
  const refusedAlerts = new Map();
  /**
   * Replies that reached the bridge's queue only after a later reply of their conversation was
   * handed over (a push the bridge did not take, a poll that was late): they may rightly go after it.
   */
  const late = new Set();
  /**
   * The bridge's admin view of a message; undefined if it has none or gave no whole answer. A
   * restart can cut an answer after its status line, so the body is read inside the same guard:
   * the soak asks again later, it must not die of it.
   */
  const adminView = async (id) => {
    try {
      const res = await fetch(`${bridgeUrl}/admin/messages/${encodeURIComponent(id)}`, admin);
      if (!res.ok) {
        await res.arrayBuffer();
        return undefined;
      }
      return await res.json();
    } catch {
      return undefined;
    }
  };

  return {
    refusedTexts,
    refusedAlerts,
    late,

    /** Twilio's webhook, signed by the emulator; the same MessageSid until the bridge says 200. False if refused. */
    async text(from, to, body, sid, extra = {}) {
      await persist(`the webhook for ${sid}`, async () => {
        const res = await post(`${twilioUrl}/_emu/inbound`, { from, to, body, sid, ...extra });
        if (!res.ok) return false;
        const answer = await res.json();
        if (answer.status >= 400 && answer.status < 500) {
          refusedTexts.set(sid, reasonOf(answer.status, answer.body));
          if (refusedTexts.size <= 3) say(`  the bridge REFUSED the webhook for ${sid} (Twilio does not retry a 4xx: a lost text): ${refusedTexts.get(sid)}`);
          return true;
        }
        return answer.status === 200;
      }, signal);
      return !refusedTexts.has(sid);
    },

    /** A proactive request (one alert or a batch); `keys` are the alerts it carries, for the refusals. */
    async proactive(body, keys) {
      let answer;
      await persist(`the proactive request ${body.idempotencyKey ?? body.campaignId}`, async () => {
        const res = await post(`${bridgeUrl}/v1/proactive`, body, { authorization: `Bearer ${tokens.API_TOKEN}` });
        if (res.status >= 500) return false;
        answer = await res.json();
        if (!res.ok) for (const key of keys) refusedAlerts.set(key, reasonOf(res.status, JSON.stringify(answer)));
        return true;
      }, signal);
      if (answer?.status === "refused") refusedAlerts.set(body.idempotencyKey, answer.reason);
      const byTo = new Map((body.messages ?? []).map((m) => [m.to, m.idempotencyKey]));
      for (const r of answer?.refused ?? []) refusedAlerts.set(byTo.get(r.to), r.reason);
      return answer;
    },

    /** Whether the bridge has recorded a message (by CXone id or MessageSid). */
    known: async (id) => (await adminView(id)) !== undefined,

    /**
     * Whether an agent reply is in its sender's queue — the only place the bridge can order it.
     * Known in D1 is not enough: a Worker restarting between the claim and the enqueue leaves a
     * reply claimed but unqueued until the poll brings it again.
     */
    queued: async (id) => (await adminView(id))?.queue != null,
    /** The bridge's record of a message (by CXone id or MessageSid) with the status callbacks it took; undefined if unknown. */
    message: (id) => adminView(id),
    batch: (id) => json(`${bridgeUrl}/v1/proactive/batches/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${tokens.API_TOKEN}` }, signal }),
    optOuts: (phone) => json(`${bridgeUrl}/admin/opt-outs/${encodeURIComponent(phone)}`, admin),
    deadLetters: () => json(`${bridgeUrl}/admin/dead-letters?limit=500`, admin),
    setOutcome: (phone, outcome) => post(`${twilioUrl}/_emu/outcome/${encodeURIComponent(phone)}`, outcome).then((r) => r.text()),
    twilioStats: () => json(`${twilioUrl}/_emu/stats`, { signal }),
    sent: () => json(`${twilioUrl}/_emu/messages`, { signal }),
  };
}

/**
 * Every thread's conversation once CXone has its first text. Waits until `deadline` for the
 * threads that had a text accepted; a thread whose texts were all refused never gets one.
 */
export async function conversationsOf(d, cx, threads, deadline, signal) {
  for (;;) {
    const byThread = new Map();
    for (const c of (await cx.view()).conversations) if (!c.proactive) byThread.set(`${c.customer} ${c.business}`, c);
    const missing = threads.filter((t) => !byThread.has(`${t.customer} ${t.business}`) && t.texts.some((x) => !d.refusedTexts.has(x.sid)));
    if (missing.length === 0 || Date.now() > deadline) return byThread;
    await sleep(1_000, signal);
  }
}

/**
 * Agents reply, each conversation's replies one after another. A reply after one the bridge must
 * poll for waits until the bridge has it: it cannot order what it has not seen, and CXone's next
 * reply (pushed at once) would otherwise be sent first through no fault of the bridge's.
 * Returns the replies that could not be made (their thread never reached CXone).
 */
export async function agentsReply(d, cx, threads, conversations, { onReply, signal, waitMs = 30_000 }) {
  const skipped = [];
  let done = 0;
  await pool(threads, 16, async (t) => {
    const conversation = conversations.get(`${t.customer} ${t.business}`);
    if (!conversation) {
      skipped.push(...t.replies);
      return;
    }
    let unseen;
    for (let i = 0; i < t.replies.length; i++) {
      const r = t.replies[i];
      if (unseen) {
        const until = Date.now() + waitMs;
        while (!(await d.queued(unseen)) && Date.now() < until) await sleep(500, signal);
        if (!(await d.queued(unseen))) d.late.add(unseen);
      }
      if (r.reverse === "earlier") {
        // The pair: the later-created reply pushed first, the earlier one 40 ms after it.
        const later = t.replies[++i];
        const now = Date.now();
        const pushed = cx.reply(conversation, later, { push: true, createdTime: new Date(now).toISOString() });
        await sleep(40, signal);
        const earlier = cx.reply(conversation, r, { push: true, createdTime: new Date(now - 1_000).toISOString() }).then((ok) => ({ ok, at: Date.now() }));
        const [laterOk, { ok: earlierOk, at: earlierAnswered }] = await Promise.all([pushed, earlier]);
        // Either one not taken at once reaches the queue later than its place (the bridge orders
        // what it has queued): its order is counted, not judged. So is the earlier one when its
        // push was answered (it was queued by then) only after the ordering window of the later
        // one had passed: the later one may have gone by then (a loaded machine, not the bridge).
        if (!earlierOk || earlierAnswered - now > ORDER_WINDOW_MS) d.late.add(r.id);
        if (!laterOk) d.late.add(later.id);
        unseen = !laterOk ? later.id : !earlierOk ? r.id : undefined;
        onReply((done += 2));
      } else {
        unseen = (await cx.reply(conversation, r, { push: r.push })) ? undefined : r.id;
        onReply(++done);
      }
    }
  }, () => {}, signal);
  return skipped;
}

/**
 * Once a reply has its final report, CXone hands the same id over again in a shape the bridge
 * cannot send (the poller meets it as an invalid item; in DFO a callback with such a recipient).
 * Returns how many were handed over again.
 */
export async function relistInvalid(cx, replies, deadline, signal) {
  const waiting = new Set(replies);
  while (waiting.size > 0 && Date.now() <= deadline) {
    const view = await cx.view();
    for (const r of [...waiting]) {
      const key = view.replies[r.id]?.keys[0];
      if (!key || !(view.reports[key] ?? []).some((x) => x.final)) continue;
      if (await cx.relist(r, view)) waiting.delete(r);
    }
    if (waiting.size > 0) await sleep(1_000, signal);
  }
  return replies.length - waiting.size;
}

/**
 * Customers answer their alert once its SMS has reached them: to the number it came from, with
 * the Messaging Service it was sent through. Returns the answers never sent (their alert never
 * arrived by `deadline`, or was refused).
 */
export async function answerAlerts(d, answers, deadline, signal) {
  const waiting = new Set(answers.filter((a) => !d.refusedAlerts.has(a.key)));
  while (waiting.size > 0 && Date.now() <= deadline) {
    // A WhatsApp alert reaches its customer as the template filled in: the plan's `text` is that.
    const sms = new Map((await d.sent()).map((m) => [m.body, m]));
    const ready = [...waiting].filter((a) => sms.has(a.text));
    await pool(ready, 8, async (a) => {
      const alert = sms.get(a.text);
      // On WhatsApp from whatsapp:+… to the sender it came from, with the customer's profile name.
      const extra = { ...(alert.messaging_service_sid ? { messagingServiceSid: alert.messaging_service_sid } : {}), ...(a.profileName ? { profileName: a.profileName } : {}) };
      await d.text(a.address ?? a.to, alert.from, a.body, a.sid, extra);
      waiting.delete(a);
    }, () => {}, signal);
    if (waiting.size > 0) await sleep(1_000, signal);
  }
  return answers.filter((a) => waiting.has(a) || d.refusedAlerts.has(a.key));
}

/**
 * Agents reply into WhatsApp alerts' conversations (contract §9): where the customer answered,
 * once the answer is in CXone (it opened the 24-hour window: the reply must be sent); where nobody
 * answered, at once (no window: the bridge must refuse it before Twilio). Returns the replies
 * that could not be made (the alert's conversation, or the answer, never reached CXone by `deadline`).
 */
export async function replyToAlerts(cx, replies, alerts, deadline, signal) {
  const byKey = new Map(alerts.map((a) => [a.key, a]));
  const waiting = new Set(replies);
  while (waiting.size > 0 && Date.now() <= deadline) {
    const view = await cx.view();
    const alertIn = new Map();
    for (const c of view.conversations) if (c.proactive) for (const m of c.messages) if (m.direction === "outbound") alertIn.set(m.text, c);
    const answered = new Set(view.conversations.flatMap((c) => c.messages.map((m) => m.sid).filter(Boolean)));
    const ready = [...waiting].filter((r) => alertIn.has(byKey.get(r.alertKey).cxoneText) && (r.outside || answered.has(r.answerSid)));
    await pool(ready, 8, async (r) => {
      await cx.reply(alertIn.get(byKey.get(r.alertKey).cxoneText), r, { push: r.push });
      waiting.delete(r);
    }, () => {}, signal);
    if (waiting.size > 0) await sleep(1_000, signal);
  }
  return [...waiting];
}
