/**
 * A soak run: the bridge under `wrangler dev` (real HTTP, local D1 and Durable Objects) against
 * the emulators with faults switched on, a workload in both directions with proactive alerts,
 * the Worker killed and restarted on the same state mid-run, then the verdict of verify.mjs.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep, table } from "../bench/lib.mjs";
import { startStack } from "../scripts/stack.mjs";
import { answerAlerts, conversationsOf, driver, pool } from "./drive.mjs";
import { callbackFaults, cxoneFaults, twilioFaults, UPSTREAM_TIMEOUT_MS } from "./faults.mjs";
import { makePlan, PROACTIVE_SENDER } from "./plan.mjs";
import { verify } from "./verify.mjs";

const SENDER_MPS = 20;
const MAX_ATTEMPTS = 20;

function devVar(name) {
  const file = ["./.dev.vars", "./.dev.vars.example"].find((f) => { try { return readFileSync(f); } catch { return false; } });
  return new RegExp(`^${name}=(.*)$`, "m").exec(readFileSync(file, "utf8"))?.[1]?.trim();
}

/**
 * @param {{ messages?: number, conversations?: number, restarts?: number, seed?: number, basePort?: number,
 *           timeoutS?: number, faults?: boolean, log?: (line: string) => void, logLevel?: string }} opts
 */
export async function runSoak(opts = {}) {
  const size = { messages: opts.messages ?? 2_000, conversations: opts.conversations ?? 300, seed: opts.seed ?? 1 };
  const restarts = opts.restarts ?? 2;
  // Below 32768: Linux hands out 32768–60999 as ephemeral ports, and under the soak's thousands of
  // connections one of them could hold a port the emulators or the bridge must listen on.
  const base = opts.basePort ?? 26_787;
  const say = opts.log ?? ((line) => console.log(line));
  const plan = makePlan(size);
  const faulty = opts.faults ?? true;
  const dir = mkdtempSync(join(tmpdir(), "sms-bridge-soak-"));
  const started = Date.now();
  say(`soak: ${plan.counts.total} messages (${plan.counts.inbound} inbound, ${plan.counts.agent} agent, ${plan.counts.proactive} proactive) over ${plan.threads.length} conversations, ${restarts} restarts, faults ${faulty ? "on" : "off"}; state and logs in ${dir}`);

  const stack = await startStack({
    port: base,
    twilioPort: base + 1,
    cxonePort: base + 2,
    persistTo: dir,
    quiet: true,
    tickSeconds: 2,
    // wrangler dev's DevTools inspector proxy turns every console line of the Worker into a
    // loopback request of its own; at the default size they piled up past the 20,000 open files
    // allowed and workerd failed every request. The same dev server without it (scripts/dev-worker.mjs).
    inspector: false,
    vars: {
      SENDER_MPS: String(SENDER_MPS),
      RETRY_BASE_MS: "300",
      RETRY_CAP_MS: "3000",
      RETRY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
      RECONCILE_AFTER_MINUTES: "0.25",
      POLL_BUDGET_MS: "5000",
      // Quiet hours have their own tests; a soak running at night must still send.
      QUIET_HOURS: "00:00-00:00",
      ...(opts.logLevel ? { LOG_LEVEL: opts.logLevel } : {}),
    },
    emulatorEnv: {
      EMU_STATUS_STEP_MS: "150",
      ...(faulty
        ? { EMU_CXONE_FAULTS: JSON.stringify(cxoneFaults), EMU_TWILIO_FAULTS: JSON.stringify(twilioFaults), EMU_CALLBACK_FAULTS: JSON.stringify(callbackFaults) }
        : {}),
    },
  });
  const tokens = { API_TOKEN: devVar("API_TOKEN"), ADMIN_TOKEN: devVar("ADMIN_TOKEN") };
  const d = driver(stack, tokens);
  const restartsDone = [];
  // One restart at a time: each kills wrangler dev mid-traffic and starts it on the same state.
  let restarting = Promise.resolve();
  const restartAt = (fraction, phase, total) => (done) => {
    if (restartsDone.length < restarts && done === Math.max(1, Math.floor(total * fraction)) && !restartsDone.some((r) => r.phase === phase && r.fraction === fraction)) {
      restartsDone.push({ phase, fraction });
      restarting = restarting.then(async () => {
        const at = Date.now();
        await stack.restartBridge();
        say(`  restarted the Worker (${phase}, ${Math.round(fraction * 100)}% in) in ${((Date.now() - at) / 1000).toFixed(1)} s`);
      });
    }
  };
  // Spread the restarts: half in the inbound phase, the rest in the outbound one.
  const inboundRestarts = Math.ceil(restarts / 2);
  const fractions = (n) => Array.from({ length: n }, (_, i) => (i + 1) / (n + 1));

  try {
    for (const t of plan.threads) if (t.undeliverable) await d.setOutcome(t.customer, { status: "undelivered", errorCode: 30003 });

    // 1. Customers text in (each thread's texts in order, threads side by side).
    const texts = plan.threads.map((t) => t.texts.map((x) => ({ t, x })));
    const onText = fractions(inboundRestarts).map((f) => restartAt(f, "inbound", plan.threads.length));
    await pool(texts, 16, async (thread) => {
      for (const { t, x } of thread) {
        await d.text(t.customer, t.business, x.body, x.sid);
        // Twilio retries a webhook it thinks failed: the same MessageSid again.
        if (x.replay) await d.text(t.customer, t.business, x.body, x.sid);
      }
    }, (done) => onText.forEach((f) => f(done)));
    say(`  texts delivered to the bridge after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const convIds = await conversationsOf(d, plan.threads, 300_000);

    // 2. Agents reply (pushed or polled) while the alerts go out.
    const replies = plan.threads.flatMap((t) => t.replies.map((r) => ({ t, r })));
    const onReply = fractions(restarts - inboundRestarts).map((f) => restartAt(f, "outbound", replies.length));
    const singles = plan.alerts.filter((a) => a.single);
    const batch = plan.alerts.filter((a) => !a.single);
    await Promise.all([
      pool(replies, 8, ({ t, r }) => d.reply(convIds.get(`${t.customer} ${t.business}`), `soak-${r.tag}`, r.body, r.push), (done) => onReply.forEach((f) => f(done))),
      pool(singles, 4, (a) => d.proactive({ to: a.to, text: a.text, campaignId: "soak", idempotencyKey: a.key, from: PROACTIVE_SENDER })),
      batch.length > 0 && d.proactive({ campaignId: "soak-batch", from: PROACTIVE_SENDER, messages: batch.map((a) => ({ to: a.to, text: a.text, idempotencyKey: a.key })) }),
    ]);
    await restarting;
    say(`  replies and alerts handed over after ${((Date.now() - started) / 1000).toFixed(0)} s`);

    // 3. Some recipients answer their alert.
    await answerAlerts(d, plan.answers, 300_000);

    // 4. Wait for the bridge to settle (retries, reconciler, receipts), then judge.
    const deadline = Date.now() + (opts.timeoutS ?? 600) * 1000;
    let verdict;
    for (;;) {
      const [conversations, reports, sent, deadLetters] = await Promise.all([d.conversations(), d.reports(), d.sent(), d.deadLetters()]);
      verdict = verify(plan, { conversations, reports, sent, deadLetters, rates: { default: SENDER_MPS }, maxAttempts: MAX_ATTEMPTS });
      if (verdict.ok || Date.now() > deadline) break;
      await sleep(3_000);
    }
    const stats = await d.cxoneStats();
    return { ...verdict, plan, restarts: restartsDone.length, seconds: (Date.now() - started) / 1000, faultsFired: stats.faults, tokenRequests: stats.tokenRequests, dir };
  } finally {
    await stack.stop();
    if (!opts.keepState) rmSync(dir, { recursive: true, force: true });
  }
}

/** The verdict as markdown: the checks, then what went wrong, if anything. */
export function report(result) {
  const lines = [
    `Soak: ${result.plan.counts.total} messages over ${result.plan.threads.length} conversations, ${result.restarts} Worker restarts, ${result.seconds.toFixed(0)} s.`,
    `CXone faults fired: ${JSON.stringify(result.faultsFired)}; CXone token requests: ${result.tokenRequests}.`,
    "",
    table(["check", "expected", "seen", "ok"], result.rows.map((r) => [r.name, r.expected, r.seen, r.ok ? "yes" : "**NO**"])),
  ];
  for (const r of result.rows.filter((x) => !x.ok)) lines.push("", `${r.name}: ${r.problems.join("; ")}`);
  for (const l of result.letters) lines.push(`dead letter: ${l.kind} ${l.ref} after ${l.attempts} attempts: ${l.reason}`);
  return lines.join("\n");
}
