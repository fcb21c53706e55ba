/**
 * The WhatsApp half of the soak's verdict (contract §9), beside what verify.mjs and
 * verify-outbound.mjs already hold every message to (each text once in its thread's one
 * conversation, each reply and alert sent once with its reports in order, no sender over its rate):
 *  - a customer's WhatsApp texts in a WhatsApp conversation of their own, apart from their SMS
 *    one, under the profile name WhatsApp gave;
 *  - agents' replies inside the window sent once, from the WhatsApp sender to whatsapp:+…, as one
 *    message of free text; template alerts sent with their Content SID and variables, shown in
 *    CXone as the template's name and parameters;
 *  - replies outside the window never at Twilio, reported FAILED / OUTSIDE_WHATSAPP_WINDOW, and
 *    free-text alerts outside it refused with nothing sent or opened;
 *  - READ (DFO: seen) only after DELIVERED, for every read callback the bridge took, and no report
 *    out of order at the CXone emulator;
 *  - the WhatsApp sender never over WHATSAPP_MPS messages in any second.
 */
import { check, outboundOf, worstSecond } from "./verify-outbound.mjs";
import { isWhatsApp, WHATSAPP_SENDER } from "./plan.mjs";

const numberOf = (address) => (isWhatsApp(address) ? address.slice("whatsapp:".length) : address);

/** The Twilio SIDs of the WhatsApp messages sent that may be read, whose status callbacks run.mjs reads from the bridge (`state.whatsapp.heard`). */
export function sentWhatsAppSids(plan, state) {
  const { replies, alerts } = outboundOf(plan, state);
  return [...replies, ...alerts].filter((m) => m.mayRead && m.sms.length > 0).flatMap((m) => m.sms.map((s) => s.sid));
}

/**
 * @param plan   from makePlan
 * @param state  verify.mjs's state, plus whatsapp: { outsideWindow (Twilio's 63016 failures), regressions, regressionsName,
 *               heard: Map<sid, statuses the bridge took> }, rates: { [WHATSAPP_SENDER]: messages/s }
 * @returns rows, and the figures the report prints
 */
export function verifyWhatsApp(plan, state) {
  const rows = [];
  const { conversations, sent, dialect, refusedTexts } = state;
  const { replies, alerts } = outboundOf(plan, state);
  const where = new Map();
  for (const c of conversations) for (const m of c.messages) if (m.sid) where.set(m.sid, [...(where.get(m.sid) ?? []), c]);
  const conversationOf = (t) => where.get(t.texts.find((x) => where.has(x.sid))?.sid)?.[0];

  // 1. Each WhatsApp thread in a WhatsApp conversation of its own, apart from the same number's SMS thread.
  const whatsappThreads = plan.threads.filter((t) => t.whatsapp);
  const smsOf = new Map(plan.threads.filter((t) => !t.whatsapp).map((t) => [t.customer, t]));
  let paired = 0;
  const apart = whatsappThreads.flatMap((t) => {
    if (t.texts.every((x) => refusedTexts.has(x.sid))) return [];
    const c = conversationOf(t);
    if (!c) return [`${t.customer}: no conversation`];
    const out = [];
    if (c.channel !== "whatsapp" || c.customer !== t.customer || c.business !== WHATSAPP_SENDER) out.push(`${t.customer}: in ${c.id} (${c.channel}, ${c.customer}, ${c.business})`);
    const sms = smsOf.get(numberOf(t.customer));
    const smsConversation = sms && conversationOf(sms);
    if (smsConversation) {
      paired += 1;
      if (smsConversation.id === c.id) out.push(`${t.customer}: shares ${c.id} with their SMS thread`);
    }
    return out;
  });
  const smsOnWhatsApp = plan.threads.filter((t) => !t.whatsapp && conversationOf(t)?.channel === "whatsapp").map((t) => `${t.customer}: an SMS thread in a WhatsApp conversation`);
  const answersApart = plan.answers.filter((a) => a.whatsapp && where.has(a.sid) && where.get(a.sid)[0].channel !== "whatsapp").map((a) => `${a.sid}: a WhatsApp answer in a ${where.get(a.sid)[0].channel} conversation`);
  rows.push(check("WhatsApp texts in WhatsApp conversations, apart from SMS", `${whatsappThreads.length} threads apart`, [...apart, ...smsOnWhatsApp, ...answersApart], `${whatsappThreads.length} threads apart (${paired} beside an SMS thread of the same number)`));

  // 2. The profile name WhatsApp gave, as the customer's name for the agent.
  const names = whatsappThreads.flatMap((t) => {
    const c = conversationOf(t);
    return !c || c.displayName === t.profileName ? [] : [`${t.customer}: shown as ${JSON.stringify(c.displayName)}, want ${JSON.stringify(t.profileName)}`];
  });
  rows.push(check("WhatsApp customers shown by their profile name", `${whatsappThreads.length}`, names));

  // 3. Replies inside the window: once, from the WhatsApp sender to whatsapp:+…, free text, one message each.
  const inWindow = replies.filter((r) => r.whatsapp && !r.refusal);
  const refusedOptOut = replies.filter((r) => r.whatsapp && r.refusal && r.refusal !== "OUTSIDE_WHATSAPP_WINDOW");
  const windowProblems = inWindow.flatMap((r) => {
    if (r.skipped) return [`${r.id}: never made`];
    if (r.sms.length !== 1) return [`${r.id}: sent ${r.sms.length}×`];
    const [s] = r.sms;
    const out = [];
    if (s.to !== r.to || !isWhatsApp(s.to)) out.push(`${r.id}: to ${s.to}, want ${r.to}`);
    if (s.from !== WHATSAPP_SENDER || s.messaging_service_sid) out.push(`${r.id}: from ${s.messaging_service_sid ?? s.from}, want ${WHATSAPP_SENDER}`);
    if (s.content_sid) out.push(`${r.id}: sent as template ${s.content_sid}, want free text`);
    if (String(s.num_segments) !== "1") out.push(`${r.id}: ${s.num_segments} segments, want 1 message`);
    return out;
  });
  const pushed = inWindow.filter((r) => r.push).length;
  const afterAnswer = inWindow.filter((r) => r.alertKey).length;
  rows.push(
    check(
      "WhatsApp replies in the window: once, from the WhatsApp sender to whatsapp:+…",
      `${inWindow.length} sent`,
      windowProblems,
      windowProblems.length === 0 ? `${inWindow.length} sent (${pushed} pushed, ${inWindow.length - pushed} ${dialect.sentReport ? "polled" : "delivered again"}; ${afterAnswer} after an answered alert); ${refusedOptOut.length} opted out` : undefined,
    ),
  );

  // 4. Template alerts: the Content SID and variables, the text filled in, and the template in CXone.
  const templates = alerts.filter((a) => a.whatsapp);
  const templateProblems = templates.flatMap((a) => {
    if (a.refusedByBridge) return [`${a.key}: refused (${a.refusedByBridge})`];
    if (a.sms.length !== 1) return [`${a.key}: sent ${a.sms.length}×${a.note && a.sms.length === 0 ? ` (${a.note})` : ""}`];
    const [s] = a.sms;
    const out = [];
    if (s.content_sid !== a.contentSid) out.push(`${a.key}: ContentSid ${s.content_sid}, want ${a.contentSid} (${a.templateKey})`);
    if (JSON.stringify(s.content_variables) !== JSON.stringify(a.variables)) out.push(`${a.key}: ContentVariables ${JSON.stringify(s.content_variables)}, want ${JSON.stringify(a.variables)}`);
    if (s.to !== a.address || s.from !== WHATSAPP_SENDER) out.push(`${a.key}: ${s.from} → ${s.to}, want ${WHATSAPP_SENDER} → ${a.address}`);
    if (!a.conversation) out.push(`${a.key}: no CXone message ${JSON.stringify(a.cxoneText)}`);
    else if (a.conversation.channel !== "whatsapp" || a.conversation.customer !== a.address) out.push(`${a.key}: in a ${a.conversation.channel} conversation of ${a.conversation.customer}`);
    return out;
  });
  const spanish = templates.filter((a) => a.template.language === "es").length;
  rows.push(
    check(
      "WhatsApp template alerts: ContentSid, variables, template shown in CXone",
      `${templates.length} sent`,
      templateProblems,
      templateProblems.length === 0 ? `${templates.length} sent (${spanish} in Spanish, ${templates.filter((a) => a.byDefault).length} by the batch's template)` : undefined,
    ),
  );

  // 5. Outside the window: nothing at Twilio — not even a send Twilio failed with 63016 — and FAILED/OUTSIDE_WHATSAPP_WINDOW.
  const outside = replies.filter((r) => r.refusal === "OUTSIDE_WHATSAPP_WINDOW");
  const toOutside = new Map(outside.map((r) => [r.to, r]));
  const outsideProblems = [
    ...outside.flatMap((r) => {
      if (r.skipped) return [`${r.id}: never made`];
      const out = [];
      if (r.sms.length > 0) out.push(`${r.id}: at Twilio ${r.sms.length}× (${r.sms.map((s) => `${s.sid} ${s.status}${s.error_code ? ` ${s.error_code}` : ""}`).join(", ")})`);
      const seen = r.reports.map((x) => x.label);
      if (seen.join() !== r.want.join()) out.push(`${r.cxoneId ?? r.id}: [${seen.join(", ")}] (want [${r.want.join(", ")}])`);
      return out;
    }),
    // Anything to those customers at Twilio but their alert (a template) is free text that got through.
    ...sent.filter((s) => toOutside.has(s.to) && !s.content_sid).map((s) => `${s.sid}: free text to ${s.to}, who never wrote`),
    ...(state.whatsapp.outsideWindow > 0 ? [`Twilio failed ${state.whatsapp.outsideWindow} free-text sends with 63016 (the bridge let them through)`] : []),
  ];
  rows.push(check("WhatsApp replies outside the window: refused before Twilio", `${outside.length} ${dialect.refused}OUTSIDE_WHATSAPP_WINDOW, 0 at Twilio`, outsideProblems, outsideProblems.length === 0 ? `${outside.length} refused, 0 at Twilio (63016: ${state.whatsapp.outsideWindow})` : undefined));

  // 6. A free-text alert on WhatsApp to someone who never wrote: refused, nothing sent, no conversation.
  const freeText = plan.freeText ?? [];
  const freeProblems = freeText.flatMap((f) => {
    const out = [];
    const reason = state.refusedAlerts.get(f.key);
    if (!reason?.includes("outside_whatsapp_window")) out.push(`${f.key}: ${reason ? `refused as ${reason}` : "not refused"}`);
    if (sent.some((s) => s.to === f.address || s.body === f.text)) out.push(`${f.key}: at Twilio`);
    if (conversations.some((c) => c.customer === f.address)) out.push(`${f.key}: a CXone conversation was opened for ${f.address}`);
    return out;
  });
  rows.push(check("free-text WhatsApp alerts outside the window: refused", `${freeText.length} outside_whatsapp_window`, freeProblems, freeProblems.length === 0 ? `${freeText.length} refused, none sent or opened` : undefined));

  // 7. READ (DFO: seen) after DELIVERED: for every read callback the bridge took, and none out of order.
  // Judged over every WhatsApp message sent: one whose read callback the bridge took must end on READ, delivered or not.
  const sentWhatsApp = [...replies, ...alerts].filter((m) => m.mayRead && m.sms.length > 0);
  const delivered = sentWhatsApp.filter((m) => m.reports.some((r) => r.label === dialect.labels.DELIVERED));
  const reads = sentWhatsApp.filter((m) => m.reports.some((r) => r.label === dialect.read));
  const heard = sentWhatsApp.filter((m) => m.sms.some((s) => state.whatsapp.heard.get(s.sid)?.includes("read")));
  const readProblems = [
    // Twilio's own record is the truth at the end: a message it has as read was delivered, and CXone must have heard so.
    ...sentWhatsApp.filter((m) => !delivered.includes(m) && m.sms.some((s) => s.status === "read" || s.status === "delivered")).map((m) => `${m.cxoneId ?? m.id}: ${m.sms[0].status} at Twilio (${m.sms[0].sid}), CXone has [${m.reports.map((r) => r.label).join(", ")}]`),
    ...heard.filter((m) => !reads.includes(m)).map((m) => `${m.cxoneId ?? m.id}: the bridge took the read callback of ${m.sms[0].sid}, CXone has no ${dialect.read} ([${m.reports.map((r) => r.label).join(", ")}])`),
    ...[...replies, ...alerts].filter((m) => !m.mayRead && m.reports.some((r) => r.label === dialect.read)).map((m) => `${m.id}: ${dialect.read} on a message that was not delivered`),
    ...(state.whatsapp.regressions > 0 ? [`the CXone emulator counts ${state.whatsapp.regressions} reports out of order (${state.whatsapp.regressionsName})`] : []),
  ];
  rows.push(
    check(
      `WhatsApp ${dialect.read} after ${dialect.labels.DELIVERED}, none out of order`,
      `read at Twilio → ${dialect.labels.DELIVERED}; read callback taken → ${dialect.read}; ${state.whatsapp.regressionsName} 0`,
      readProblems,
      readProblems.length === 0 ? `${reads.length} of ${delivered.length} delivered read (${heard.length} read callbacks reached the bridge); ${state.whatsapp.regressionsName} ${state.whatsapp.regressions}` : undefined,
    ),
  );

  // 8. The WhatsApp sender's own rate, in messages (a WhatsApp message is one, however long).
  const rate = state.rates[WHATSAPP_SENDER] ?? state.rates.default;
  const worst = worstSecond(sent.filter((s) => s.from === WHATSAPP_SENDER && !s.messaging_service_sid).map((s) => ({ at: s.receivedAt, segments: 1 })));
  rows.push(check("WhatsApp sender within WHATSAPP_MPS in any second (own oracle)", `≤ ${rate}/s`, worst > rate ? [`${WHATSAPP_SENDER}: ${worst} messages in a second`] : [], `${worst}`));

  return {
    rows,
    figures: { reads: reads.length, delivered: delivered.length, heard: heard.length, worst, rate, outside: outside.length, inWindow: inWindow.length, pushed, templates: templates.length, spanish },
  };
}
