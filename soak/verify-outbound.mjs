/**
 * The outbound half of the soak's verdict: every SMS Twilio received attributed to the one
 * planned reply or alert with its body, and for each planned message: sent exactly once or
 * refused, to the right customer from the right sender, with exactly the reports it should
 * have, in order; replies in createdTime order per conversation; no sender above its rate.
 * WhatsApp messages are held to the same, from the WhatsApp sender to whatsapp:+…, with a READ
 * (DFO: seen) allowed after DELIVERED; a reply outside the 24-hour window is refused like a reply
 * to a suppressed customer (verify-whatsapp.mjs judges the rest of WhatsApp).
 * CXone's side comes in the shape cxone-om.mjs describes, whichever the dialect.
 */
import { isWhatsApp, PROACTIVE_SENDER, WHATSAPP_SENDER } from "./plan.mjs";

/** What CXone hears for a WhatsApp reply the bridge must not send: no 24-hour window (contract §9). */
export const OUTSIDE_WINDOW = "OUTSIDE_WHATSAPP_WINDOW";

export function check(name, expected, problems, seen) {
  return { name, expected, seen: seen ?? (problems.length === 0 ? expected : `${problems.length} wrong`), ok: problems.length === 0, problems: problems.slice(0, 5) };
}

/** What each planned outbound message is, what should become of it, and what became of it. */
export function outboundOf(plan, state) {
  const { conversations, sent, reports, replies: known, dialect, refusedAlerts, refusedReplies = new Map(), skippedReplies, batches = {}, restartWindows } = state;
  // A batch refuses its recipients after answering 202; only its counts say so.
  const batchNote = Object.values(batches)
    .map((counts) => `the batch counts ${Object.entries(counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(", ")}`)
    .join("; ");
  const smsByBody = new Map();
  sent.forEach((m, index) => smsByBody.set(m.body, [...(smsByBody.get(m.body) ?? []), { ...m, index }]));
  for (const list of smsByBody.values()) list.sort((a, b) => a.receivedAt - b.receivedAt || a.index - b.index);
  const alertMessages = new Map();
  for (const c of conversations) if (c.proactive) for (const m of c.messages) if (m.direction === "outbound") alertMessages.set(m.text, { id: m.key, conversation: c });

  const threadReplies = plan.threads.flatMap((t) =>
    t.replies.map((r) => ({
      ...r,
      thread: t,
      whatsapp: !!t.whatsapp,
      cxoneId: known[r.id]?.keys[0],
      keys: known[r.id]?.keys ?? [],
      answers: known[r.id]?.answers ?? [],
      to: t.customer,
      sender: { from: t.business, service: null },
      skipped: skippedReplies.has(r.id),
      refusedByBridge: refusedReplies.get(r.id),
      refusal: t.suppressed ? "OPTED_OUT" : undefined,
      final: t.undeliverable ? "UNDELIVERABLE" : "DELIVERED",
      createdAt: known[r.id]?.createdAt,
    })),
  );
  // A WhatsApp template shows in CXone as its name and parameters, at Twilio as its text filled in.
  const alerts = plan.alerts.map((a) => ({
    ...a,
    id: a.key,
    body: a.text,
    cxoneId: alertMessages.get(a.cxoneText ?? a.text)?.id,
    keys: [],
    answers: [],
    conversation: alertMessages.get(a.cxoneText ?? a.text)?.conversation,
    to: a.address ?? a.to,
    sender: a.whatsapp ? { from: WHATSAPP_SENDER, service: null } : { service: PROACTIVE_SENDER },
    refusedByBridge: refusedAlerts.get(a.key),
    note: a.single ? undefined : batchNote,
    final: "DELIVERED",
  }));
  // Agents' replies into WhatsApp alerts' conversations: one "thread" per alert for the order check.
  const alertByKey = new Map(alerts.map((a) => [a.key, a]));
  const alertThreads = new Map();
  const alertReplies = (plan.alertReplies ?? []).map((r) => {
    const a = alertByKey.get(r.alertKey);
    if (!alertThreads.has(a.key)) alertThreads.set(a.key, { customer: a.to, business: WHATSAPP_SENDER, whatsapp: true, suppressed: false, alert: a.key });
    return {
      ...r,
      thread: alertThreads.get(a.key),
      whatsapp: true,
      cxoneId: known[r.id]?.keys[0],
      keys: known[r.id]?.keys ?? [],
      answers: known[r.id]?.answers ?? [],
      to: a.to,
      sender: { from: WHATSAPP_SENDER, service: null },
      skipped: skippedReplies.has(r.id),
      refusedByBridge: refusedReplies.get(r.id),
      refusal: r.outside ? OUTSIDE_WINDOW : undefined,
      final: "DELIVERED",
      createdAt: known[r.id]?.createdAt,
    };
  });
  const replies = [...threadReplies, ...alertReplies];
  for (const m of [...replies, ...alerts]) {
    m.whatsapp = m.whatsapp || isWhatsApp(m.to);
    m.sms = smsByBody.get(m.body) ?? [];
    m.reports = collapseRetries(reports[m.cxoneId] ?? [], restartWindows);
    m.want = m.refusal ? [`${dialect.refused}${m.refusal}`] : [...(dialect.sentReport ? ["SENT"] : []), dialect.labels[m.final]];
    // WhatsApp tells when the customer read it: READ (DFO: seen) may follow DELIVERED, nothing else.
    // May, not must: a read callback Twilio loses is not asked for again (verify-whatsapp.mjs counts them).
    m.mayRead = m.whatsapp && !m.refusal && m.final === "DELIVERED" ? dialect.read : undefined;
  }
  return { replies, alerts };
}

/**
 * The same report again is a retry, not a second report, when the bridge could not know the first
 * had landed: an injected fault lost its answer, or the Worker was killed between sending it and
 * recording that (a restart between the two). CXone applies a repeated PUT once. Any other repeat,
 * or a new report of the same status, is one too many.
 */
function collapseRetries(history, restartWindows) {
  const crashBetween = (a, b) => restartWindows.some((w) => Date.parse(a.at) <= w.to && Date.parse(b.at) >= w.from);
  return history.filter((r, i) => {
    const before = history[i - 1];
    return !(before && JSON.stringify(before.body) === JSON.stringify(r.body) && (before.answerLost || crashBetween(before, r)));
  });
}

/** Not yet settled: a message still to be sent, or without its final report. */
export function unsettled(m) {
  if (m.skipped || m.refusedByBridge) return false;
  if (m.refusal) return !m.reports.some((r) => r.final);
  return m.sms.length === 0 || m.reports.length < m.want.length || !m.reports.some((r) => r.final);
}

const tag = (m) => `${m.id}${m.reverse ? " (reverse-pushed)" : ""}`;

/** Sent exactly once, or not at all when refused (opted out) or never made. */
export function sentOnce(name, messages) {
  const problems = messages.flatMap((m) => {
    if (m.skipped) return [`${m.id}: never made (its thread never reached CXone)`];
    if (m.refusedByBridge) return [`${m.id}: refused by the bridge (${m.refusedByBridge})`];
    const want = m.refusal ? 0 : 1;
    if (m.sms.length === want) return [];
    return [`${tag(m)}: sent ${m.sms.length}× (want ${want}${m.refusal ? ", the customer is suppressed" : ""}${m.sms.length === 0 && m.note ? `; ${m.note}` : ""})`];
  });
  return check(name, `${messages.filter((m) => !m.refusal).length} sent, ${messages.filter((m) => m.refusal).length} refused`, problems);
}

/** Each SMS to the planned customer from the planned sender, and the SENT report (open-messaging) names its SID. */
export function identity(name, messages, dialect) {
  const problems = messages.flatMap((m) => {
    const out = [];
    for (const s of m.sms) {
      const service = s.messaging_service_sid ?? null;
      if (s.to !== m.to) out.push(`${m.id}: to ${s.to}, want ${m.to}`);
      if (m.sender.service ? service !== m.sender.service : s.from !== m.sender.from || service !== null) {
        out.push(`${m.id}: from ${service ?? s.from}, want ${m.sender.service ?? m.sender.from}`);
      }
    }
    const sentReport = m.reports.find((r) => r.sent);
    const provider = sentReport?.provider;
    if (sentReport && m.sms.length > 0 && !m.sms.some((x) => x.sid === provider)) {
      out.push(`${m.id}: SENT names ${provider ?? "no providerMessageId"}, Twilio issued ${m.sms.map((x) => x.sid).join(", ")}`);
    }
    return out;
  });
  const checked = messages.filter((m) => m.sms.length > 0).length;
  return check(name, dialect.sentReport ? "to, sender, providerMessageId" : "to, sender", problems, problems.length === 0 ? `${checked} checked` : undefined);
}

/**
 * Exactly the dialect's reports (open-messaging: SENT then one final; DFO: the final status) or
 * one FAILED/OPTED_OUT for a refused message, nothing after; and one id for the message in CXone —
 * a reply delivered again (DFO) must get the first answer's id and time, not a second message.
 */
export function sequences(name, messages, dialect) {
  const problems = messages.flatMap((m) => {
    if (m.skipped || m.refusedByBridge) return [];
    if (!m.cxoneId) return [`${m.id}: no CXone message`];
    if (m.keys.length > 1) return [`${m.id}: known to CXone as ${m.keys.join(" and ")}`];
    const times = new Set(m.answers.map((a) => a.createdAt));
    if (times.size > 1) return [`${m.id}: answered with ${times.size} different createdAtWithMilliseconds`];
    const seen = m.reports.map((r) => r.label);
    if (seen.join() === m.want.join() || (m.mayRead && seen.join() === [...m.want, m.mayRead].join())) return [];
    return [`${m.cxoneId}${m.reverse ? " (reverse-pushed)" : ""}: [${seen.join(", ")}] (want [${m.want.join(", ")}]${m.mayRead ? `, then ${m.mayRead} or nothing` : ""})`];
  });
  const read = messages.some((m) => m.mayRead) ? ` (WhatsApp: then ${dialect.read} or nothing)` : "";
  return check(name, `${dialect.sentReport ? "SENT, final" : "final"}${read}`, problems, problems.length === 0 ? `${messages.length} complete` : undefined);
}

/**
 * Per conversation, the replies' SMS in the order of their createdTime (as instants). A reply that
 * reached the bridge's queue only after a later one was handed over (its push failed and the poll
 * brought it seconds later, or the poll was late) may rightly go after it — the ordering window is
 * OUTBOUND_ORDER_WINDOW_MS, and the bridge cannot order what it has not queued — so its place is
 * not judged, only counted; every reply must still be sent.
 */
export function replyOrder(replies, late) {
  const problems = [];
  const byThread = new Map();
  for (const r of replies) byThread.set(r.thread, [...(byThread.get(r.thread) ?? []), r]);
  let pairs = 0;
  let pairsSent = 0;
  let lateSeen = 0;
  for (const [t, list] of byThread) {
    const sent = list.filter((r) => r.sms.length > 0).sort((a, b) => a.sms[0].receivedAt - b.sms[0].receivedAt || a.sms[0].index - b.sms[0].index);
    for (let i = 1; i < sent.length; i++) {
      const [before, after] = [sent[i - 1], sent[i]];
      if (late.has(after.id)) {
        lateSeen += 1;
        continue;
      }
      if (before.createdAt > after.createdAt) problems.push(`${t.customer}: ${tag(after)} (created ${new Date(after.createdAt).toISOString()}) sent after ${tag(before)} (created ${new Date(before.createdAt).toISOString()})`);
    }
    const pair = list.filter((r) => r.reverse);
    if (pair.length === 0 || t.suppressed) continue;
    pairs += 1;
    const n = pair.filter((r) => r.sms.length > 0).length;
    if (n === 2) pairsSent += 1;
    else problems.push(`${pair.map((r) => r.id).join("/")}: reverse-pushed pair, ${n} of 2 sent`);
  }
  const seen = `${byThread.size} conversations, ${pairsSent}/${pairs} pairs${lateSeen ? `; ${lateSeen} replies queued after a later one, order not judged` : ""}`;
  return check("reply order per conversation (createdTime; reverse-pushed pairs)", "in order, every pair sent", problems, problems.length === 0 ? seen : undefined);
}

/**
 * Most segments any sender had in a window [t, t + 1 s), by when the Twilio emulator received
 * the requests: the soak's own oracle, independent of the bridge's bucket and the benchmarks.
 */
export function worstSecond(sends) {
  const sorted = [...sends].sort((a, b) => a.at - b.at);
  let worst = 0;
  let sum = 0;
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end].at < sorted[start].at + 1_000) sum += sorted[end++].segments;
    worst = Math.max(worst, sum);
    sum -= sorted[start].segments;
  }
  return worst;
}

export function rateRow(sent, rates) {
  const bySender = new Map();
  for (const m of sent) {
    const key = m.messaging_service_sid ?? m.from;
    bySender.set(key, [...(bySender.get(key) ?? []), { at: m.receivedAt, segments: Number(m.num_segments ?? 1) }]);
  }
  const windows = [...bySender].map(([sender, sends]) => ({ sender, worst: worstSecond(sends), rate: rates[sender] ?? rates.default }));
  const limits = [...new Set(windows.map((w) => `≤ ${w.rate}`))].join(", ");
  return {
    windows,
    row: check("no sender above its rate in any second (own oracle)", `${limits || `≤ ${rates.default}`}/s`, windows.filter((w) => w.worst > w.rate).map((w) => `${w.sender}: ${w.worst} in a second`), windows.map((w) => w.worst).join(" ")),
  };
}
