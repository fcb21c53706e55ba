/**
 * The soak's verdict, from what the emulators saw (CXone's conversations and receipts, Twilio's
 * sent messages) and the bridge's dead letters. Each check is a row: what must hold, what was
 * seen, and the first few offending ids when it does not.
 */
import { worstWindow } from "../bench/lib.mjs";
import { PROACTIVE_SENDER } from "./plan.mjs";

const FINAL = new Set(["DELIVERED", "UNDELIVERABLE", "FAILED"]);

function check(name, expected, problems, seen) {
  return { name, expected, seen: seen ?? (problems.length === 0 ? expected : `${problems.length} wrong`), ok: problems.length === 0, problems: problems.slice(0, 5) };
}

/** The final receipt CXone holds for a message, or undefined. */
function finalReceipt(reports, id) {
  return [...(reports[id] ?? [])].reverse().find((r) => FINAL.has(r.body.status))?.body;
}

/**
 * @param plan   from makePlan
 * @param state  { conversations, reports, sent, deadLetters, rates: Record<sender, segments/s>, maxAttempts }
 */
export function verify(plan, state) {
  const { conversations, reports, sent, deadLetters, rates, maxAttempts } = state;
  const rows = [];

  // Inbound: each MessageSid once in CXone, in its customer's one conversation.
  const where = new Map();
  for (const c of conversations) for (const m of c.messages) if (m.metadata?.twilio_message_sid) where.set(m.metadata.twilio_message_sid, [...(where.get(m.metadata.twilio_message_sid) ?? []), c]);
  const texts = plan.threads.flatMap((t) => t.texts.map((x) => ({ ...x, thread: t })));
  rows.push(check("customer texts in CXone exactly once", `${texts.length + plan.answers.length}`, [...texts, ...plan.answers].filter((x) => (where.get(x.sid)?.length ?? 0) !== 1).map((x) => `${x.sid}: ${where.get(x.sid)?.length ?? 0} times`)));
  const wrongThread = texts.filter((x) => {
    const c = where.get(x.sid)?.[0];
    return c && (c.proactive || c.customer !== x.thread.customer || c.properties?.business_number !== x.thread.business);
  });
  const split = plan.threads.filter((t) => new Set(t.texts.map((x) => where.get(x.sid)?.[0]?.id)).size > 1);
  rows.push(check("…each in its customer's one conversation", "0 misthreaded, 0 split", [...wrongThread.map((x) => `${x.sid} misthreaded`), ...split.map((t) => `${t.customer} split`)]));
  const perThread = new Map();
  for (const c of conversations) if (!c.proactive) perThread.set(`${c.customer} ${c.properties?.business_number}`, (perThread.get(`${c.customer} ${c.properties?.business_number}`) ?? 0) + 1);
  rows.push(check("one conversation per customer thread", `${plan.threads.length}`, [...perThread].filter(([, n]) => n !== 1).map(([k, n]) => `${k}: ${n}`), `${perThread.size} threads`));
  rows.push(check("answers to alerts in the alert's conversation", `${plan.answers.length}`, plan.answers.filter((a) => { const c = where.get(a.sid)?.[0]; return !c || !c.proactive || c.customer !== a.to; }).map((a) => a.sid)));

  // Outbound: each reply and alert sent once (or refused with its reason), with its final receipt.
  const sentCount = new Map();
  for (const m of sent) sentCount.set(m.body, (sentCount.get(m.body) ?? 0) + 1);
  const replies = plan.threads.flatMap((t) => t.replies.map((r) => ({ ...r, id: `soak-${r.tag}`, thread: t })));
  const expectedReceipt = (t) => (t.optsOut ? "FAILED" : t.undeliverable ? "UNDELIVERABLE" : "DELIVERED");
  rows.push(check("agent replies sent once (none to opted-out)", `${replies.filter((r) => !r.thread.optsOut).length} sent`, replies.filter((r) => (sentCount.get(r.body) ?? 0) !== (r.thread.optsOut ? 0 : 1)).map((r) => `${r.id}: sent ${sentCount.get(r.body) ?? 0}×`)));
  rows.push(check("agent replies' final receipts", `${replies.length}`, replies.filter((r) => {
    const receipt = finalReceipt(reports, r.id);
    if (receipt?.status !== expectedReceipt(r.thread)) return true;
    return r.thread.optsOut && receipt.deliveryReceipt?.errorCode !== "OPTED_OUT";
  }).map((r) => `${r.id}: ${finalReceipt(reports, r.id)?.status ?? "none"} (want ${expectedReceipt(r.thread)})`)));

  const alertIds = new Map();
  for (const c of conversations) if (c.proactive) for (const m of c.messages) if (m.direction === "outbound") alertIds.set(m.text, m.id);
  rows.push(check("proactive alerts sent once", `${plan.alerts.length}`, plan.alerts.filter((a) => (sentCount.get(a.text) ?? 0) !== 1).map((a) => `${a.key}: sent ${sentCount.get(a.text) ?? 0}×`)));
  rows.push(check("proactive alerts' final receipts", `${plan.alerts.length}`, plan.alerts.filter((a) => finalReceipt(reports, alertIds.get(a.text))?.status !== "DELIVERED").map((a) => `${a.key}: ${finalReceipt(reports, alertIds.get(a.text))?.status ?? "none"}`)));
  const soakBodies = new Set([...replies.map((r) => r.body), ...plan.alerts.map((a) => a.text)]);
  rows.push(check("no SMS the soak did not ask for", "0", sent.filter((m) => !soakBodies.has(m.body)).map((m) => `${m.sid} to ${m.to}`)));

  // Throughput: no sender above its rate in any one-second window, as Twilio saw the sends.
  const bySender = new Map();
  for (const m of sent) bySender.set(m.from, [...(bySender.get(m.from) ?? []), { at: m.receivedAt, segments: Number(m.num_segments ?? 1) }]);
  const windows = [...bySender].map(([from, sends]) => ({ from, worst: worstWindow(sends, rates[from] ?? rates.default), rate: rates[from] ?? rates.default }));
  rows.push(check("no sender above its rate in any second", windows.map((w) => `≤ ${w.rate}`).filter((v, i, a) => a.indexOf(v) === i).join(", ") + "/s", windows.filter((w) => w.worst > w.rate).map((w) => `${w.from}: ${w.worst} in a second`), windows.map((w) => w.worst).join(" ")));

  // Dead letters only where the faults outlasted the retry budget, each with its cause.
  const letters = deadLetters.deadLetters ?? [];
  rows.push(check("dead letters (only past the retry budget)", "0", letters.filter((l) => l.attempts < maxAttempts).map((l) => `${l.kind} ${l.ref}: ${l.reason}`), `${letters.length}`));

  return { ok: rows.every((r) => r.ok), rows, letters, windows, proactiveSender: PROACTIVE_SENDER };
}
