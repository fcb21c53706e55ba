/**
 * The soak's verdict, from what the emulators saw (CXone's conversations, replies and reports in
 * the shape cxone-om.mjs describes, whichever the dialect; Twilio's sent messages), the bridge's suppression list and dead letters, and what the driver
 * recorded (refused webhooks and alerts, replies it could not make). Each check is a row: what
 * must hold, what was seen, and the first few offending ids when it does not.
 */
import { check, identity, outboundOf, rateRow, replyOrder, sentOnce, sequences, unsettled } from "./verify-outbound.mjs";
import { verifyWhatsApp } from "./verify-whatsapp.mjs";

/** MessageSid → the conversations CXone holds it in (twice in one counts twice). */
function placesOf(conversations) {
  const where = new Map();
  for (const c of conversations) for (const m of c.messages) if (m.sid) where.set(m.sid, [...(where.get(m.sid) ?? []), c]);
  return where;
}

const textsOf = (plan) => plan.threads.flatMap((t) => t.texts.map((x) => ({ ...x, thread: t })));

/** What is still on its way: texts not yet in CXone, replies and alerts without their final report. */
export function outstanding(plan, state) {
  const where = placesOf(state.conversations);
  const answers = plan.answers.filter((a) => !state.unanswered.has(a.sid));
  const texts = [...textsOf(plan), ...answers].filter((x) => !state.refusedTexts.has(x.sid) && !where.has(x.sid));
  const { replies, alerts } = outboundOf(plan, state);
  return texts.length + [...replies, ...alerts].filter(unsettled).length;
}

/**
 * @param plan   from makePlan
 * @param state  { conversations, reports, replies, dialect (cxone-om.mjs), sent, deadLetters, optOuts: Map<phone, answer>,
 *                 batches: { [batchId]: counts }, refusedTexts, refusedAlerts, refusedReplies, skippedReplies: Set<id>,
 *                 unanswered: Set<sid>, restartWindows: { from, to }[], rates: Record<sender, segments/s>, maxAttempts,
 *                 whatsapp (verify-whatsapp.mjs) }
 */
export function verify(plan, state) {
  const { conversations, refusedTexts, deadLetters, maxAttempts } = state;
  const rows = [];
  const where = placesOf(conversations);
  const texts = textsOf(plan);
  const lost = (sid) => (refusedTexts.has(sid) ? `refused by the bridge, ${refusedTexts.get(sid)}` : undefined);

  // Inbound: each MessageSid once in CXone, in its customer's one conversation, in the order sent.
  const answered = plan.answers.filter((a) => !state.unanswered.has(a.sid));
  rows.push(check("customer texts in CXone exactly once", `${texts.length + answered.length}`, [...texts, ...answered].filter((x) => (where.get(x.sid)?.length ?? 0) !== 1).map((x) => `${x.sid}: ${lost(x.sid) ?? `${where.get(x.sid)?.length ?? 0} times`}`)));
  const wrongThread = texts.filter((x) => {
    const c = where.get(x.sid)?.[0];
    return c && (c.proactive || c.customer !== x.thread.customer || c.business !== x.thread.business);
  });
  const split = plan.threads.filter((t) => new Set(t.texts.filter((x) => where.has(x.sid)).map((x) => where.get(x.sid)[0].id)).size > 1);
  rows.push(check("…each in its customer's one conversation", "0 misthreaded, 0 split", [...wrongThread.map((x) => `${x.sid} misthreaded`), ...split.map((t) => `${t.customer} split`)]));
  const perThread = new Map();
  for (const c of conversations) if (!c.proactive) perThread.set(`${c.customer} ${c.business}`, (perThread.get(`${c.customer} ${c.business}`) ?? 0) + 1);
  const planned = new Set(plan.threads.map((t) => `${t.customer} ${t.business}`));
  const extra = [...perThread.keys()].filter((k) => !planned.has(k)).map((k) => `${k}: a customer conversation no thread of the plan has (an answer to an alert?)`);
  // A thread whose every text the bridge refused has none; its texts are counted as lost above.
  const silent = plan.threads.filter((t) => t.texts.every((x) => refusedTexts.has(x.sid))).length;
  const missing = plan.threads.filter((t) => !perThread.has(`${t.customer} ${t.business}`) && !t.texts.every((x) => refusedTexts.has(x.sid))).map((t) => `${t.customer} ${t.business}: none`);
  rows.push(check("one conversation per customer thread", `${plan.threads.length}`, [...[...perThread].filter(([, n]) => n !== 1).map(([k, n]) => `${k}: ${n}`), ...missing, ...extra], `${perThread.size} threads${silent ? ` (${silent} with every text refused)` : ""}`));
  rows.push(check("inbound order per thread (as delivered)", "in order", plan.threads.flatMap((t) => {
    const sids = new Map(t.texts.map((x, i) => [x.sid, i]));
    const conversation = where.get(t.texts.find((x) => where.has(x.sid))?.sid)?.[0];
    const order = (conversation?.messages ?? []).map((m) => m.sid).filter((sid) => sids.has(sid));
    const late = order.findIndex((sid, i) => i > 0 && sids.get(sid) < sids.get(order[i - 1]));
    return late > 0 ? [`${t.customer}: ${order[late]} after ${order[late - 1]}`] : [];
  })));

  const { replies, alerts } = outboundOf(plan, state);
  const alertOf = new Map(alerts.map((a) => [a.key, a]));
  rows.push(check("answers to alerts in the alert's conversation", `${plan.answers.length}`, plan.answers.flatMap((a) => {
    const alert = alertOf.get(a.key);
    if (state.unanswered.has(a.sid)) return [`${a.sid}: never sent, its alert ${alert.refusedByBridge ? `was refused (${alert.refusedByBridge})` : `never reached its recipient${alert.note ? ` (${alert.note})` : ""}`}`];
    const c = where.get(a.sid)?.[0];
    if (!c) return [`${a.sid}: ${lost(a.sid) ?? "not in CXone"}`];
    return c.id === alert.conversation?.id ? [] : [`${a.sid}: in ${c.id}${c.proactive ? "" : " (a customer thread)"}, the alert is in ${alert.conversation?.id ?? "no conversation"}`];
  })));

  // Outbound: every SMS attributed, each planned message sent once (or refused) as planned.
  rows.push(sentOnce("agent replies sent exactly once (none to a suppressed customer)", replies));
  rows.push(identity("agent replies' identity (to, from the business number, providerMessageId)", replies, state.dialect));
  rows.push(sentOnce("proactive alerts sent exactly once", alerts));
  rows.push(identity("proactive alerts' identity (to, Messaging Service, providerMessageId)", alerts, state.dialect));
  rows.push(sequences("report sequence: agent replies", replies, state.dialect));
  rows.push(sequences("report sequence: proactive alerts", alerts, state.dialect));
  rows.push(replyOrder(replies, state.late ?? new Set()));
  rows.push(suppression(plan, state));
  const bodies = new Set([...replies, ...alerts].map((m) => m.body));
  rows.push(check("no SMS the soak did not ask for", "0", state.sent.filter((m) => !bodies.has(m.body)).map((m) => `${m.sid} to ${m.to}`)));
  const { row, windows } = rateRow(state.sent, state.rates);
  rows.push(row);
  // WhatsApp (contract §9): its conversations, window, templates, READ receipts and rate.
  const whatsapp = verifyWhatsApp(plan, state);
  rows.push(...whatsapp.rows);

  // Dead letters only where the faults outlasted the retry budget, each with its cause.
  const letters = deadLetters.deadLetters ?? [];
  rows.push(check("dead letters (only past the retry budget)", "0", letters.filter((l) => l.attempts < maxAttempts).map((l) => `${l.kind} ${l.ref}: ${l.reason}`), `${letters.length}`));

  return { ok: rows.every((r) => r.ok), rows, letters, windows, whatsapp: whatsapp.figures };
}

/**
 * A customer whose last keyword was STOP is suppressed for the thread's number; after START, not.
 * On WhatsApp for the WhatsApp sender only: the same number's SMS thread is judged on its own.
 * `optOuts` is keyed by the thread's customer (whatsapp:+… on WhatsApp), the bridge's list by the number.
 */
function suppression(plan, state) {
  const threads = plan.threads.filter((t) => t.keywords || t.optsOut);
  const problems = threads.flatMap((t) => {
    const entries = state.optOuts.get(t.customer)?.optOuts ?? [];
    const suppressed = entries.some((o) => o.business === t.business || o.business === "*");
    if (suppressed === t.suppressed) return [];
    const keywords = t.texts.filter((x) => x.keyword);
    const why = [
      ...(keywords.some((x) => x.d1Fault) ? ["the START's first D1 write failed"] : []),
      ...keywords.filter((x) => state.refusedTexts.has(x.sid)).map((x) => `${x.keyword} refused by the bridge`),
    ];
    return [`${t.customer} after ${keywords.map((x) => x.keyword).join(", ")}: ${suppressed ? "suppressed" : "not suppressed"}${why.length ? ` (${why.join("; ")})` : ""}`];
  });
  const stops = threads.filter((t) => t.suppressed).length;
  const whatsapp = threads.filter((t) => t.whatsapp);
  const onWhatsApp = whatsapp.length > 0 ? ` (WhatsApp: ${whatsapp.filter((t) => t.suppressed).length} suppressed, ${whatsapp.filter((t) => !t.suppressed).length} not)` : "";
  return check("suppression after STOP / START pairs", `${stops} suppressed, ${threads.length - stops} not`, problems, problems.length === 0 ? `${stops} suppressed, ${threads.length - stops} not${onWhatsApp}` : undefined);
}
