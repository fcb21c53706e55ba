/**
 * A soak run: the bridge under `wrangler dev` (real HTTP, local D1 and Durable Objects) against
 * the emulators with faults switched on, a workload in both directions with proactive alerts —
 * SMS and WhatsApp (templates, the 24-hour window, read receipts; see plan.mjs) —
 * the Worker killed and restarted on the same state mid-run, then — once the workload has
 * drained and the emulators have been quiet for a while — the verdict of verify.mjs. CXone speaks
 * either dialect (`mode`: open-messaging or dfo); what differs is read and driven through an
 * adapter (cxone-om.mjs, cxone-dfo.mjs), so that both are held to the one verdict.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { table } from "../bench/lib.mjs";
import { d1Execute, startStack } from "../scripts/stack.mjs";
import { dfoSide } from "./cxone-dfo.mjs";
import { openMessagingSide } from "./cxone-om.mjs";
import { agentsReply, answerAlerts, conversationsOf, driver, pool, relistInvalid, replyToAlerts, sleep } from "./drive.mjs";
import { callbackFaults, D1_EVIDENCE_SQL, D1_FAULT_LOG, d1Faults, LONGEST_RETRY_AFTER_S, twilioFaults, UPSTREAM_TIMEOUT_MS } from "./faults.mjs";
import { makePlan, PROACTIVE_SENDER, TEMPLATES, WHATSAPP_SENDER } from "./plan.mjs";
import { settle } from "./settle.mjs";
import { check } from "./verify-outbound.mjs";
import { outstanding, verify } from "./verify.mjs";
import { sentWhatsAppSids } from "./verify-whatsapp.mjs";

const SENDER_MPS = 20;
/** The WhatsApp sender's own bucket, in messages (contract §9): below SENDER_MPS, so that it is its own. */
const WHATSAPP_MPS = 10;
const MAX_ATTEMPTS = 20;
const RETRY_CAP_MS = 3_000;
const TICK_S = 2;
const LOST_ANSWER_GRACE_MS = 15_000;
/**
 * After the workload drained, the longest the bridge can still go without a visible change and
 * then act is a receipt waiting out the 20 s Retry-After fault (plus a retry step and a tick,
 * ~25 s: the floor below); a lost send is resolved within LOST_ANSWER_GRACE_MS plus a tick. 45 s
 * also covers a receipt that meets that 5% fault twice in a row (~40 s), which happens a few
 * times in a default-size run.
 */
const QUIET_S = 45;
const QUIET_FLOOR_S = Math.max(2 * TICK_S, LONGEST_RETRY_AFTER_S + RETRY_CAP_MS / 1000 + TICK_S, LOST_ANSWER_GRACE_MS / 1000 + TICK_S);

function devVar(name) {
  const file = ["./.dev.vars", "./.dev.vars.example"].find((f) => existsSync(f));
  return new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(file, "utf8"))?.[1]?.trim();
}

/**
 * @param {{ mode?: "open-messaging" | "dfo", messages?: number, conversations?: number, restarts?: number, seed?: number, basePort?: number, timeoutS?: number,
 *           quietS?: number, faults?: boolean, keepState?: boolean, signal?: AbortSignal, log?: (line: string) => void, logLevel?: string }} opts
 */
export async function runSoak(opts = {}) {
  const seed = opts.seed ?? 1;
  const size = { messages: opts.messages ?? 2_000, conversations: opts.conversations ?? 300, restarts: opts.restarts ?? 2 };
  const quietS = opts.quietS ?? QUIET_S;
  if (quietS < QUIET_FLOOR_S) throw new Error(`quietS ${quietS} is shorter than the longest retry the faults can cause (${QUIET_FLOOR_S} s): the verdict could miss what comes after it`);
  const say = opts.log ?? ((line) => console.log(line));
  const plan = makePlan({ ...size, seed });
  const faulty = opts.faults ?? true;
  const dir = mkdtempSync(join(tmpdir(), "sms-bridge-soak-"));
  const started = Date.now();
  const base = opts.basePort ?? 26_787;
  // The stack puts the CXone emulator on base + 2 (stackOptions).
  const cx = (opts.mode === "dfo" ? dfoSide : openMessagingSide)(`http://127.0.0.1:${base + 2}`, { signal: opts.signal, seed });
  say(`soak (${cx.mode}): seed ${seed}; ${plan.counts.total} messages (${plan.counts.inbound} inbound, ${plan.counts.agent} agent, ${plan.counts.proactive} proactive) over ${plan.threads.length} conversations, ${size.restarts} restarts, faults ${faulty ? "on" : "off"}; state and logs in ${dir}`);
  const share = whatsappShare(plan);
  let ok = false;
  say(`  WhatsApp: ${share.whatsapp} of ${share.total} conversations (${share.percent}%), ${plan.counts.whatsapp.total} messages`);
  try {
    // Below 32768: Linux hands out 32768–60999 as ephemeral ports, and under the soak's thousands of
    // connections one of them could hold a port the emulators or the bridge must listen on.
    const stack = await startStack(stackOptions(base, dir, seed, faulty, opts.logLevel, cx));
    let result;
    try {
      // What the verdict saw, beside the logs: kept with them when the run fails (or SOAK_KEEP_STATE).
      const dump = join(dir, "verdict-input.json");
      result = await driveAndJudge(stack, cx, plan, { restarts: size.restarts, timeoutMs: (opts.timeoutS ?? 600) * 1000, quietS, signal: opts.signal, say, started, dump });
    } finally {
      await stack.stop();
    }
    // Read once the Worker is down: the D1 fault's evidence is in the local D1 and the bridge's log.
    if (faulty) result.faultsFired.d1 = d1Evidence(plan, dir, result);
    ok = result.rows.every((r) => r.ok);
    return { ...result, mode: cx.mode, words: cx.words, seed, size, dir, ok, seconds: (Date.now() - started) / 1000 };
  } finally {
    // A failed run keeps its logs and state (a CI failure is read from them, not rerun blind).
    if (!opts.keepState && ok) rmSync(dir, { recursive: true, force: true });
  }
}

function stackOptions(base, dir, seed, faulty, logLevel, cx) {
  return {
    // Named, so that a CXONE_API_MODE left in the shell cannot turn an open-messaging run into DFO.
    mode: cx.mode,
    port: base,
    twilioPort: base + 1,
    cxonePort: base + 2,
    persistTo: dir,
    quiet: true,
    tickSeconds: TICK_S,
    // wrangler dev's DevTools inspector proxy turns every console line of the Worker into a
    // loopback request of its own; at the default size they piled up past the 20,000 open files
    // allowed and workerd failed every request. The same dev server without it (scripts/dev-worker.mjs).
    inspector: false,
    d1Setup: faulty ? d1Faults : [],
    // Every retry the bridge can make is shorter than the quiet period (QUIET_S).
    vars: {
      SENDER_MPS: String(SENDER_MPS),
      RETRY_BASE_MS: "300",
      RETRY_CAP_MS: String(RETRY_CAP_MS),
      RETRY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      LOST_ANSWER_GRACE_MS: String(LOST_ANSWER_GRACE_MS),
      RECONCILE_AFTER_MINUTES: "0.25",
      POLL_BUDGET_MS: "5000",
      // No default number: alerts go out through the Messaging Service their request names.
      TWILIO_FROM_NUMBER: "",
      // Quiet hours have their own tests; a soak running at night must still send.
      QUIET_HOURS: "00:00-00:00",
      // WhatsApp (contract §9): the sender, its templates, its rate.
      WHATSAPP_FROM_NUMBER: WHATSAPP_SENDER,
      WHATSAPP_TEMPLATES: JSON.stringify(Object.fromEntries(Object.entries(TEMPLATES).map(([key, t]) => [key, t.sid]))),
      WHATSAPP_MPS: String(WHATSAPP_MPS),
      ...(logLevel ? { LOG_LEVEL: logLevel } : {}),
      ...cx.vars,
    },
    emulatorEnv: {
      EMU_STATUS_STEP_MS: "150",
      EMU_SEED: String(seed),
      // The same templates at the Twilio emulator, which renders them for the customer.
      EMU_WHATSAPP_TEMPLATES: JSON.stringify(Object.fromEntries(Object.values(TEMPLATES).map((t) => [t.sid, t.text]))),
      ...(faulty
        ? { EMU_CXONE_FAULTS: JSON.stringify(cx.faults), EMU_TWILIO_FAULTS: JSON.stringify(twilioFaults), EMU_CALLBACK_FAULTS: JSON.stringify(callbackFaults) }
        : {}),
    },
  };
}

/** Kills and restarts the Worker once the progress of a phase passes each of its fractions, one restart at a time. */
function restarter(stack, say) {
  const done = [];
  /** When each restart killed the Worker and when the new one answered. */
  const windows = [];
  let restarting = Promise.resolve();
  return {
    done,
    windows,
    settled: () => restarting,
    /** The progress callback of a phase of `total` steps with `n` restarts spread over it. */
    during(phase, total, n) {
      const due = Array.from({ length: n }, (_, i) => ({ phase, at: Math.max(1, Math.floor((total * (i + 1)) / (n + 1))), percent: Math.round(((i + 1) / (n + 1)) * 100) }));
      return (progress) => {
        for (const r of due.filter((x) => !done.includes(x) && progress >= x.at)) {
          done.push(r);
          restarting = restarting.then(async () => {
            const from = Date.now();
            await stack.restartBridge();
            windows.push({ from, to: Date.now() });
            say(`  restarted the Worker (${phase}, ${r.percent}% in) in ${((Date.now() - from) / 1000).toFixed(1)} s`);
          });
        }
      };
    },
  };
}

async function driveAndJudge(stack, cx, plan, { restarts, timeoutMs, quietS, signal, say, started, dump }) {
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const d = driver(stack, { API_TOKEN: devVar("API_TOKEN"), ADMIN_TOKEN: devVar("ADMIN_TOKEN") }, { signal, say });
  const restart = restarter(stack, say);
  // Spread the restarts: half in the inbound phase, the rest in the outbound one.
  const inboundRestarts = Math.ceil(restarts / 2);
  for (const t of plan.threads) if (t.undeliverable) await d.setOutcome(t.customer, { status: "undelivered", errorCode: 30003 });

  // 1. Customers text in (each thread's texts in order, threads side by side).
  await pool(plan.threads, 16, async (t) => {
    for (const x of t.texts) {
      const extra = { ...(x.emptyFields.length > 0 ? { extraFields: x.emptyFields.map((name) => [name, ""]) } : {}), ...(t.profileName ? { profileName: t.profileName } : {}) };
      // Twilio retries a webhook it thinks failed: the same MessageSid again.
      if ((await d.text(t.customer, t.business, x.body, x.sid, extra)) && x.replay) await d.text(t.customer, t.business, x.body, x.sid, extra);
    }
  }, restart.during("inbound", plan.threads.length, inboundRestarts), signal);
  say(`  texts delivered to the bridge after ${elapsed()}${d.refusedTexts.size ? `; ${d.refusedTexts.size} REFUSED by the bridge (lost)` : ""}`);
  const conversations = await conversationsOf(d, cx, plan.threads, Date.now() + timeoutMs, signal);
  // The keywords have taken effect (each keyword text is in D1) before the replies they govern.
  const keywordsBy = Date.now() + 60_000;
  for (const x of plan.threads.flatMap((t) => (t.keywords ? t.texts.filter((k) => k.keyword && !d.refusedTexts.has(k.sid)) : []))) {
    while (!(await d.known(x.sid)) && Date.now() < keywordsBy) await sleep(500, signal);
  }

  // 2. Agents reply (pushed or polled; in DFO called in, some answers lost) while the alerts go out.
  // WhatsApp alerts are templates (a free-text one to someone who never wrote must be refused);
  // singles name the WhatsApp sender or leave it to WHATSAPP_FROM_NUMBER, the batch leaves it.
  const replyCount = plan.threads.reduce((n, t) => n + t.replies.length, 0);
  const singles = plan.alerts.filter((a) => a.single);
  const batch = plan.alerts.filter((a) => !a.single && !a.whatsapp);
  const whatsappBatch = plan.alerts.filter((a) => !a.single && a.whatsapp);
  const single = (a) =>
    a.whatsapp
      ? { to: a.to, channel: "whatsapp", template: a.template, campaignId: "soak-whatsapp", idempotencyKey: a.key, ...(a.from ? { from: a.from } : {}) }
      : { to: a.to, text: a.text, campaignId: "soak", idempotencyKey: a.key, from: PROACTIVE_SENDER };
  const batchTemplate = whatsappBatch.find((a) => a.byDefault)?.template;
  const [skipped, , batchAnswer, whatsappBatchAnswer] = await Promise.all([
    agentsReply(d, cx, plan.threads, conversations, { onReply: restart.during("outbound", replyCount, restarts - inboundRestarts), signal }),
    pool([...singles, ...plan.freeText.map((f) => ({ ...f, free: true }))], 4, (a) => d.proactive(a.free ? { to: a.to, channel: "whatsapp", text: a.text, campaignId: "soak-whatsapp", idempotencyKey: a.key } : single(a), [a.key]), () => {}, signal),
    batch.length > 0 && d.proactive({ campaignId: "soak-batch", from: PROACTIVE_SENDER, messages: batch.map((a) => ({ to: a.to, text: a.text, idempotencyKey: a.key })) }, batch.map((a) => a.key)),
    whatsappBatch.length > 0 &&
      d.proactive(
        { campaignId: "soak-whatsapp-batch", channel: "whatsapp", ...(batchTemplate ? { template: batchTemplate } : {}), messages: whatsappBatch.map((a) => ({ to: a.to, ...(a.byDefault ? {} : { template: a.template }), idempotencyKey: a.key })) },
        whatsappBatch.map((a) => a.key),
      ),
  ]);
  await Promise.all([restart.settled(), cx.settled()]);
  const handedOver = Date.now();
  // The free-text WhatsApp alerts are meant to be refused; any other refusal is said out loud.
  const meant = new Set(plan.freeText.map((f) => f.key));
  const refused = [...d.refusedAlerts].filter(([key]) => !meant.has(key));
  say(`  replies and alerts handed over after ${elapsed()}${refused.length ? `; ${refused.length} alerts REFUSED by the bridge (${[...new Set(refused.map(([, why]) => why))].join(", ")})` : ""}${meant.size ? `; ${[...meant].filter((k) => d.refusedAlerts.has(k)).length} of ${meant.size} free-text WhatsApp alerts refused as planned` : ""}`);

  // 3. Some recipients answer their alert; 4. the workload drains and the emulators go quiet.
  const deadline = handedOver + timeoutMs;
  const unanswered = new Set((await answerAlerts(d, plan.answers, deadline, signal)).map((a) => a.sid));
  // Agents reply into WhatsApp alerts' conversations: after the answer (sent), or with no answer (refused).
  const alertSkipped = await replyToAlerts(cx, plan.alertReplies, plan.alerts, deadline, signal);
  await cx.settled();
  const skippedIds = new Set([...skipped, ...alertSkipped].map((r) => r.id));
  const relisted = await relistInvalid(cx, plan.threads.flatMap((t) => t.replies.filter((r) => r.relistInvalid && !skippedIds.has(r.id))), deadline, signal);
  const known = { refusedTexts: d.refusedTexts, refusedAlerts: d.refusedAlerts, refusedReplies: cx.refusedReplies, skippedReplies: skippedIds, late: d.late, unanswered, restartWindows: restart.windows, dialect: cx.dialect };
  const snapshot = async () => {
    const [view, sent] = await Promise.all([cx.view(), d.sent()]);
    return { ...known, ...view, sent };
  };
  const settled = await settle({ snapshot, outstanding: (s) => outstanding(plan, s), deadline, quietMs: quietS * 1000, signal });
  settled.drainedS = (settled.drainedAt - handedOver) / 1000;
  say(`  ${settled.outstanding === 0 ? "drained" : `${settled.outstanding} still outstanding ${stuckWhen(settled)}`} ${settled.drainedS.toFixed(0)} s after the hand-over; quiet for ${(settled.quietMs / 1000).toFixed(0)} s; judging at ${elapsed()}`);

  const suppressible = plan.threads.filter((t) => t.keywords || t.optsOut);
  // The suppression list is keyed by the number, whichever channel the keyword came on.
  const optOuts = new Map(await Promise.all(suppressible.map(async (t) => [t.customer, await d.optOuts(t.customer.replace(/^whatsapp:/, ""))])));
  const batches = {};
  for (const answer of [batchAnswer, whatsappBatchAnswer]) if (answer?.batchId) batches[answer.batchId] = (await d.batch(answer.batchId)).counts;
  const [cxoneStats, twilioStats] = await Promise.all([cx.stats(), d.twilioStats()]);
  const rates = { default: SENDER_MPS, [WHATSAPP_SENDER]: WHATSAPP_MPS };
  const state = { ...settled.state, optOuts, batches, deadLetters: await d.deadLetters(), rates, maxAttempts: MAX_ATTEMPTS };
  // The status callbacks the bridge took for each WhatsApp message sent: a read one must have become READ.
  const heard = new Map();
  await pool(sentWhatsAppSids(plan, state), 8, async (sid) => heard.set(sid, ((await d.message(sid))?.statusHistory ?? []).map((e) => e.status)), () => {}, signal);
  state.whatsapp = { outsideWindow: twilioStats.outsideWindow ?? 0, regressions: cxoneStats.regressions ?? 0, regressionsName: cxoneStats.regressionsName, heard };
  // With the state kept, what the verdict saw is kept too, to look into a failing row afterwards.
  if (dump) writeFileSync(dump, JSON.stringify({ plan, state }, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v instanceof Set ? [...v] : v)));
  const verdict = verify(plan, state);
  verdict.rows.push(check("settled: quiet before judging", `≥ ${quietS} s`, settled.quiet ? [] : [`the emulators still changed ${(settled.quietMs / 1000).toFixed(0)} s before the end`], `${(settled.quietMs / 1000).toFixed(0)} s`));
  const faultsFired = { cxone: cxoneStats.faults, twilio: twilioStats.faults, callbacks: twilioStats.callbacks };
  return { ...verdict, plan, restarts: restart.done.length, settled, batches, faultsFired, tokenRequests: cxoneStats.tokenRequests, cxoneNote: cxoneStats.note, refusedTexts: d.refusedTexts, relisted };
}

/** The planned texts whose first D1 write failed, by the evidence table and the bridge's log; a row of the verdict. */
function d1Evidence(plan, dir, result) {
  const planned = plan.threads.flatMap((t) => t.texts.filter((x) => x.d1Fault).map((x) => x.sid));
  const late = new Map(d1Execute(dir, D1_EVIDENCE_SQL, { json: true })[0].results.map((r) => [r.sid, r.lateMs]));
  const log = join(dir, "logs", "bridge.log");
  const logged = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l.includes(D1_FAULT_LOG)).length : 0;
  const missed = planned.filter((sid) => !late.has(sid)).map((sid) => `${sid}: its first write was not refused${result.refusedTexts.has(sid) ? " (the bridge refused the text)" : ""}`);
  result.rows.splice(-1, 0, check("injected D1 failures fired", `${planned.length}`, missed, `${late.size}`));
  return { planned, late, logged };
}

/** Why the soak stopped waiting for what is still outstanding. */
const stuckWhen = (settled) => (settled.stalled ? `when nothing had changed for ${(settled.stallMs / 1000).toFixed(0)} s` : "at the timeout");

/** WhatsApp's share of the run's conversations: customer threads and alerts (each alert opens one). */
function whatsappShare(plan) {
  const whatsapp = plan.threads.filter((t) => t.whatsapp).length + plan.alerts.filter((a) => a.whatsapp).length;
  const total = plan.threads.length + plan.alerts.length;
  return { whatsapp, total, percent: ((100 * whatsapp) / Math.max(1, total)).toFixed(1) };
}

/** The verdict as markdown: the run, the faults, the checks, then what went wrong, if anything. */
export function report(result) {
  const { plan, settled, faultsFired: f, size, words } = result;
  const reverse = plan.threads.filter((t) => t.replies.some((r) => r.reverse)).length;
  const unpushed = plan.threads.reduce((n, t) => n + t.replies.filter((r) => !r.push).length, 0);
  const empty = plan.threads.reduce((n, t) => n + t.texts.filter((x) => x.emptyFields.length > 0).length, 0);
  const late = f.d1 ? [...f.d1.late.values()].map((ms) => `${(ms / 1000).toFixed(1)} s`).join(", ") : "";
  const d1 = f.d1
    ? `${f.d1.late.size} of ${f.d1.planned.length} planned first writes refused${late ? ` (the row got in ${late} after the text arrived)` : ""}; ${f.d1.logged} \`d1.retry\` log lines name the injected failure`
    : "off";
  const quiet = `${(settled.quietMs / 1000).toFixed(0)} s`;
  const lines = [
    `Soak (CXone ${result.mode === "dfo" ? "DFO" : "open-messaging"}): seed ${result.seed}, ${plan.counts.total} messages (${plan.counts.inbound} inbound, ${plan.counts.agent} agent replies, ${plan.counts.proactive} alerts) over ${plan.threads.length} conversations, ${result.restarts} Worker restarts, ${result.seconds.toFixed(0)} s.`,
    `Judged ${settled.outstanding === 0 ? `once the workload had drained (${settled.drainedS.toFixed(0)} s after the hand-over)` : `with ${settled.outstanding} messages still outstanding ${stuckWhen(settled)} (${settled.drainedS.toFixed(0)} s after the hand-over)`}, ${settled.quiet ? `after ${quiet} with no change at the emulators` : `although the emulators were still changing (last change ${quiet} before)`}.`,
    `Injected faults: CXone ${JSON.stringify(f.cxone)} (token requests: ${result.tokenRequests}${result.cxoneNote ?? ""}); Twilio ${JSON.stringify(f.twilio)}; status callbacks ${JSON.stringify(f.callbacks)}; D1: ${d1}.`,
    `In the workload: ${empty} texts with empty optional fields, ${reverse} ${words.pairs}, ${unpushed} ${words.unpushed}, every SMS alert from a Messaging Service only (${PROACTIVE_SENDER}), ${plan.threads.filter((t) => t.keywords).length} STOP/START pairs, ${result.relisted ?? 0} ${words.relisted}.`,
    whatsappLine(result),
    `Rerun: \`${result.mode === "dfo" ? "CXONE_API_MODE=dfo " : ""}SOAK_SEED=${result.seed} SOAK_MESSAGES=${size.messages} SOAK_CONVERSATIONS=${size.conversations} SOAK_RESTARTS=${size.restarts} npm run soak\``,
    ...(result.ok ? [] : [`The bridge's and the emulators' logs and state are kept in ${result.dir}.`]),
    "",
    table(["check", "expected", "seen", "ok"], result.rows.map((r) => [r.name, r.expected, r.seen, r.ok ? "yes" : "**NO**"])),
  ];
  for (const r of result.rows.filter((x) => !x.ok)) lines.push("", `${r.name}: ${r.problems.join("; ")}`);
  for (const l of result.letters) lines.push(`dead letter: ${l.kind} ${l.ref} after ${l.attempts} attempts: ${l.reason}`);
  return lines.join("\n");
}

/** The report's WhatsApp line: its share, what it carried, and what came of the window and the receipts. */
function whatsappLine(result) {
  const { plan, whatsapp: f, words } = result;
  const w = plan.counts.whatsapp;
  const share = whatsappShare(plan);
  const threads = plan.threads.filter((t) => t.whatsapp);
  const answered = plan.answers.filter((a) => a.whatsapp).length;
  const toSend = [...threads.filter((t) => !t.suppressed).flatMap((t) => t.replies), ...plan.alertReplies.filter((r) => !r.outside)];
  const optedOut = threads.filter((t) => t.suppressed).reduce((n, t) => n + t.replies.length, 0);
  const pushed = toSend.filter((r) => r.push).length;
  const alerts = plan.alerts.filter((a) => a.whatsapp);
  const figures = f
    ? ` ${words.read[0].toUpperCase()}${words.read.slice(1)} on ${f.reads} of ${f.delivered} delivered WhatsApp messages (${f.heard} read callbacks reached the bridge); the WhatsApp sender's worst second ${f.worst} messages (WHATSAPP_MPS ${f.rate}).`
    : "";
  return (
    `WhatsApp (${WHATSAPP_SENDER}): ${share.whatsapp} of ${share.total} conversations (${share.percent}%), ${w.total} of ${plan.counts.total} messages — ` +
    `${w.threads} customer threads, each beside the same number's SMS thread (${w.texts - answered} texts with a profile name, ${w.pairs} STOP/START pairs, ${w.optOuts} opt-outs); ` +
    `${w.replies} agent replies inside the window (${toSend.length} to be sent: ${pushed} pushed, ${toSend.length - pushed} ${result.mode === "dfo" ? "with their first answer lost" : "left for the poller"}, ${plan.alertReplies.filter((r) => !r.outside).length} of them after an answered alert; ${optedOut} to customers whose last word was STOP); ` +
    `${w.alerts} template alerts (${alerts.filter((a) => a.single).length} single, ${alerts.filter((a) => !a.single).length} in one batch; ${alerts.filter((a) => a.template.language === "es").length} in Spanish; ${answered} answered); ` +
    `${w.outside} agent replies outside the window and ${w.freeText} free-text alerts outside it, all to be refused.${figures}`
  );
}
