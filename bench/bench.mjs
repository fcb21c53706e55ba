/**
 * `npm run bench`: the bridge under `wrangler dev`, measured side by side in one run, written to
 * bench/results.md with SVG plots (bench/*.svg).
 *
 *   Stack A (production settings, BENCH_METRICS off), with the baseline Worker beside it:
 *     1. inbound webhooks — autocannon, signed, unique MessageSids — bridge vs baseline;
 *     2. the rate bucket (bench/rate.mjs's benchRate) and agent pushes/s on POST /cxone/outbound.
 *   Stack B (the bench's entry bench/worker/index.ts wraps the product Worker: bench/worker/instrumentation.ts counts, GET /__metrics reads):
 *     3. cost per message lifecycle, counted and cross-checked with the emulators;
 *     4. cost per cron tick with D1 seeded to each size (exit code 1 if rows read per tick grow
 *        more than 2x from the smallest to the largest size).
 *
 * Knobs (environment): BENCH_QUICK=1 (small sizes, short runs, for development),
 * BENCH_DURATION_S, BENCH_INBOUND_ROUNDS, BENCH_INBOUND_WARMUP_S, BENCH_WARMUP_S, BENCH_CONNECTIONS, BENCH_CUSTOMERS, BENCH_RATES,
 * BENCH_BACKLOG_SECONDS, BENCH_IDLE_SAMPLES, BENCH_COST_MESSAGES, BENCH_SIZES, BENCH_TICKS,
 * BENCH_STUCK, BENCH_PHASES (any of inbound,rate,push,cost,service,drain,ticks,batch,dfo), BENCH_SERVICE_RATE, BENCH_BATCH (recipients), BENCH_BATCH_RATE, BENCH_BATCH_WINDOW_S, BENCH_SERVICE_SECONDS, BENCH_PORT (first of the ports: bridge, Twilio, CXone, baseline, then baseline fallbacks +4/+6/+8),
 * BENCH_TMPDIR (where local state goes; default /dev/shm), BENCH_KEEP=1 (keep state and logs).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { migrate, startStack } from "../scripts/stack.mjs";
import { startBaseline } from "./baseline.mjs";
import { benchCost, perMessage } from "./cost.mjs";
import { cpuDiff, groupCpu } from "./cpu.mjs";
import { json, percentile, sleep, table, until } from "./lib.mjs";
import { cannon, combine, inboundRequests, pushRequests } from "./load.mjs";
import { barChart, perSecond, stepChart } from "./svg.mjs";
import { makeStuck, measureTicks, seed, tickSummary } from "./ticks.mjs";
import { benchDfo } from "./dfo.mjs";
import { benchDrain, DRAIN_OVERRIDES, drainSection } from "./drain.mjs";
import { benchService, SERVICE, serviceSection } from "./service.mjs";
import { planSection } from "./plan.mjs";
import { batchSection, benchBatch } from "./batch.mjs";

const started = Date.now();
const REPO = process.cwd();
const OUT = join(REPO, "bench");
const QUICK = process.env.BENCH_QUICK === "1";
const num = (name, fallback) => Number(process.env[name] ?? fallback);
const list = (name, fallback) => (process.env[name] ?? fallback).split(",").map((s) => s.trim()).filter(Boolean);
// bench/rate.mjs reads these when it is loaded.
process.env.BENCH_BACKLOG_SECONDS ??= QUICK ? "4" : "10";
process.env.BENCH_IDLE_SAMPLES ??= QUICK ? "4" : "10";
const cfg = {
  duration: num("BENCH_DURATION_S", QUICK ? 3 : 10),
  /** Goal 2: rounds of baseline then bridge, each `duration` long. */
  inboundRounds: num("BENCH_INBOUND_ROUNDS", QUICK ? 1 : 3),
  inboundWarmup: num("BENCH_INBOUND_WARMUP_S", QUICK ? 2 : 8),
  warmup: num("BENCH_WARMUP_S", QUICK ? 1 : 2),
  connections: num("BENCH_CONNECTIONS", 10),
  customers: num("BENCH_CUSTOMERS", 50),
  rates: list("BENCH_RATES", QUICK ? "5" : "5,30").map(Number),
  backlogSeconds: Number(process.env.BENCH_BACKLOG_SECONDS),
  costMessages: num("BENCH_COST_MESSAGES", QUICK ? 3 : 10),
  sizes: list("BENCH_SIZES", QUICK ? "1000,5000" : "1000,10000,100000").map(Number).sort((a, b) => a - b),
  ticks: num("BENCH_TICKS", QUICK ? 2 : 4),
  stuck: num("BENCH_STUCK", 5),
  phases: new Set(list("BENCH_PHASES", "inbound,rate,push,cost,service,drain,ticks,batch,dfo")),
  /** Goal 5: one proactive batch of this many recipients, drained for a window at this rate. */
  batch: num("BENCH_BATCH", QUICK ? 20_000 : 100_000),
  batchRate: num("BENCH_BATCH_RATE", 50),
  batchWindowS: num("BENCH_BATCH_WINDOW_S", QUICK ? 10 : 20),
  /** The Messaging Service run (goal 3): its rate (4 objects of a quarter each) and its backlog. */
  serviceRate: num("BENCH_SERVICE_RATE", QUICK ? 20 : 40),
  serviceSeconds: num("BENCH_SERVICE_SECONDS", QUICK ? 10 : 30),
  drainBacklog: num("BENCH_DRAIN_BACKLOG", QUICK ? 10_000 : 100_000),
};
const PORT = num("BENCH_PORT", 38_787);
const ports = { bridge: PORT, twilio: PORT + 1, cxone: PORT + 2, baseline: PORT + 3, baselineFallback: [PORT + 4, PORT + 6, PORT + 8] };
const { benchRate, rateTable } = await import("./rate.mjs");
const rateSender = (rate) => `+1555000${String(3000 + rate).padStart(4, "0")}`;
const PUSH_SENDER = "+15550002999";

const CREDS = {
  TWILIO_ACCOUNT_SID: "AC44444444444444444444444444444444",
  TWILIO_AUTH_TOKEN: "bench-twilio-auth-token",
  TWILIO_FROM_NUMBER: "+15550002000",
  CXONE_CLIENT_ID: "bench-client",
  CXONE_CLIENT_SECRET: "bench-client-secret",
  CXONE_WEBHOOK_SECRET: "bench-webhook-secret",
  ADMIN_TOKEN: "bench-admin-token",
  API_TOKEN: "bench-api-token",
};

// Everything started here is stopped here, also on Ctrl-C.
const stoppers = [];
const dirs = [];
async function cleanup() {
  while (stoppers.length) await stoppers.pop()().catch((err) => console.error(`stopping: ${err.message}`));
  // A start that failed half-way (e.g. wrangler never became healthy) leaves its process group
  // behind without a handle: stop the groups this process spawned (detached children lead one).
  try {
    for (const line of execFileSync("ps", ["-o", "pid=,pgid=", "--ppid", String(process.pid)], { encoding: "utf8" }).trim().split("\n")) {
      const [pid, pgid] = line.trim().split(/\s+/).map(Number);
      if (pid && pid === pgid) {
        console.error(`stopping leftover process group ${pid}`);
        process.kill(-pid, "SIGTERM");
      }
    }
  } catch {
    // ps found no children
  }
  process.chdir(REPO);
  if (process.env.BENCH_KEEP === "1") console.log(`kept (BENCH_KEEP=1): ${dirs.splice(0).join(" ")}`);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping everything started by the benchmark`);
    cleanup().finally(() => process.exit(130));
  });
}
// Local D1 and Durable Object files on tmpfs, as the test suite does (vitest.config.ts): on this
// VM's disk every small synced write costs a disk flush, which no Cloudflare deployment pays.
const TMP = process.env.BENCH_TMPDIR ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
const tempDir = (name) => {
  const dir = mkdtempSync(join(TMP, `sms-bridge-bench-${name}-`));
  dirs.push(dir);
  return dir;
};

// Everything runs from a snapshot of the working tree taken now: `wrangler dev` rebuilds and
// restarts the Worker whenever a watched source file changes (answering 503 "Your worker restarted
// mid-request" to whatever was in flight), and other work on this tree must neither restart the
// stacks mid-measurement nor mix two versions of the code into one run.
const snapshot = tempDir("src");
for (const entry of ["src", "migrations", "emulators", "scripts", "bench", "wrangler.toml", "package.json", "tsconfig.json", ".dev.vars.example", "worker-configuration.d.ts"]) {
  if (existsSync(join(REPO, entry))) cpSync(join(REPO, entry), join(snapshot, entry), { recursive: true, filter: (from) => !from.includes(".wrangler") });
}
symlinkSync(join(REPO, "node_modules"), join(snapshot, "node_modules"));
process.chdir(snapshot);
const step = (title) => console.log(`\n== ${title} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
const local = (url) => url.replace("//localhost:", "//127.0.0.1:");
const cxoneAppends = async (stack) => (await json(`${stack.cxoneUrl}/_emu/stats`)).calls["POST /api/v2/conversations/:id/messages"] ?? 0;

const results = { cfg, failures: [], load: [loadavg()[0]] };

/** What became of a sender's messages that Twilio never received (for a failed rate run). */
async function rateDiagnosis(stack, sender) {
  try {
    const admin = { headers: { authorization: `Bearer ${CREDS.ADMIN_TOKEN}` } };
    const sent = new Set((await json(`${stack.twilioUrl}/_emu/messages`)).filter((m) => m.from === sender).map((m) => m.to));
    const missing = (await json(`${stack.cxoneUrl}/_emu/feed`)).filter((f) => f.from === sender && !sent.has(f.to));
    const stats = await json(`${stack.bridgeUrl}/admin/senders/${encodeURIComponent(sender)}`, admin);
    const states = {};
    for (const item of missing.slice(0, 20)) {
      const found = await fetch(`${stack.bridgeUrl}/admin/messages/${encodeURIComponent(item.id)}`, admin).then((res) => (res.ok ? res.json() : { message: { state: `HTTP ${res.status}` } }));
      const key = `${found.message?.state}${found.queue?.state ? `/queue ${found.queue.state}` : ""}${found.message?.lastError ? ` (${found.message.lastError.slice(0, 80)})` : ""}`;
      states[key] = (states[key] ?? 0) + 1;
    }
    const { sent: _log, ...counts } = stats;
    return `${missing.length} never reached Twilio; sender ${JSON.stringify(counts)}; first ${Math.min(20, missing.length)} of them in D1: ${JSON.stringify(states)}`;
  } catch (err) {
    return `(no diagnosis: ${err.message})`;
  }
}

/** Runs one part of the benchmark; a failure is reported and the next part still runs. */
async function phase(name, run) {
  try {
    await run();
  } catch (err) {
    console.error(`${name} failed:`, err);
    results.failures.push(`${name} failed: ${err.message ?? err}`);
  }
}

try {
  // ───────────── Stack A: production settings (no BENCH_METRICS) + the baseline ─────────────
  if (["inbound", "rate", "push"].some((p) => cfg.phases.has(p))) {
    step("starting stack A (bridge, emulators) and the baseline Worker");
    const dirA = tempDir("a");
    const overrides = Object.fromEntries([...cfg.rates.map((r) => [rateSender(r), r]), [PUSH_SENDER, 1]]);
    const withBaseline = cfg.phases.has("inbound");
    const [stack, baseline] = await Promise.all([
      startStack({
        port: ports.bridge,
        twilioPort: ports.twilio,
        cxonePort: ports.cxone,
        persistTo: dirA,
        quiet: true,
        tickSeconds: 0,
        // Bridge and baseline both without the DevTools inspector (scripts/dev-worker.mjs): wrangler
        // dev relays every console line through it, a cost of the local dev tool, not of a deployment.
        inspector: false,
        vars: { ...CREDS, SENDER_MPS: "20", SENDER_MPS_OVERRIDES: JSON.stringify(overrides) },
      }),
      withBaseline
        ? startBaseline({
            port: ports.baseline,
            fallbackPorts: ports.baselineFallback,
            dir: tempDir("baseline"),
            vars: { ...CREDS, CXONE_API_BASE: `http://127.0.0.1:${ports.cxone}`, CXONE_TOKEN_URL: `http://127.0.0.1:${ports.cxone}/auth/token` },
          })
        : undefined,
    ]);
    const stopStack = () => stack.stop();
    const stopBaseline = () => baseline.stop();
    stoppers.push(stopStack);
    if (baseline) stoppers.push(stopBaseline);
    stack.adminToken = CREDS.ADMIN_TOKEN;
    // The product Worker has no /__metrics: only the bench's entry (stack B) counts.
    results.metricsOff = (await fetch(`${stack.bridgeUrl}/__metrics`, { headers: { authorization: `Bearer ${CREDS.ADMIN_TOKEN}` } })).status;

    if (cfg.phases.has("inbound")) await phase("inbound webhooks", async () => {
      step(`1. inbound webhooks: ${cfg.duration} s per target, ${cfg.connections} connections, ${cfg.customers} customers each`);
      const targets = {
        baseline: { url: local(baseline.url), requests: inboundRequests({ publicUrl: baseline.publicUrl, authToken: CREDS.TWILIO_AUTH_TOKEN, accountSid: CREDS.TWILIO_ACCOUNT_SID, to: CREDS.TWILIO_FROM_NUMBER, customers: cfg.customers, pool: "8" }) },
        bridge: { url: local(stack.bridgeUrl), requests: inboundRequests({ publicUrl: stack.bridgeUrl, authToken: CREDS.TWILIO_AUTH_TOKEN, accountSid: CREDS.TWILIO_ACCOUNT_SID, to: CREDS.TWILIO_FROM_NUMBER, customers: cfg.customers, pool: "7" }) },
      };
      let accepted = 0;
      const drain = async (what, timeoutS = 180) => {
        const t0 = Date.now();
        await until(what, async () => (await cxoneAppends(stack)) >= accepted, timeoutS * 1000, 250);
        return (Date.now() - t0) / 1000;
      };
      // Warm-up: one text per customer, so isolates, the token and every customer's thread and
      // CXone conversation exist before measuring (steady state: follow-ups in open threads).
      // Then load for a while: V8 optimizes a hot path after thousands of calls, and a target still
      // warming up in the measured rounds reads slower than it runs (the baseline's first round once
      // read 409 req/s, its next two 567 and 569).
      for (const name of ["baseline", "bridge"]) {
        const warm = await cannon({ ...targets[name], amount: cfg.customers, connections: cfg.connections, title: `${name} warm-up` });
        const hot = await cannon({ ...targets[name], duration: cfg.inboundWarmup, connections: cfg.connections, title: `${name} warm-up, ${cfg.inboundWarmup} s` });
        accepted += warm.ok + hot.ok;
      }
      await drain("the warm-up to reach CXone");
      // Alternating rounds, not one run each: a one-off stall of this shared machine (2 cores for
      // the load, both Workers and the emulators) then falls on both targets, not on one.
      const rounds = { baseline: [], bridge: [] };
      const cpu = { baseline: { workerd: 0, other: 0 }, bridge: { workerd: 0, other: 0 } };
      const addCpu = (name, d) => ((cpu[name].workerd += d.workerd), (cpu[name].other += d.other));
      const drains = [];
      for (let round = 1; round <= cfg.inboundRounds; round++) {
        let cpu0 = groupCpu(baseline.pid);
        const base = await cannon({ ...targets.baseline, duration: cfg.duration, connections: cfg.connections, title: `baseline, round ${round}` });
        addCpu("baseline", cpuDiff(groupCpu(baseline.pid), cpu0));
        accepted += base.ok;
        rounds.baseline.push(base);
        cpu0 = groupCpu(stack.bridge.child.pid);
        const bridge = await cannon({ ...targets.bridge, duration: cfg.duration, connections: cfg.connections, title: `bridge, round ${round}` });
        accepted += bridge.ok;
        rounds.bridge.push(bridge);
        // Until the texts are in CXone (their deliveries run after the answers): the bridge's CPU
        // counts that work, and the next baseline round does not run beside it.
        drains.push(await drain("the bridge's accepted texts to reach CXone"));
        addCpu("bridge", cpuDiff(groupCpu(stack.bridge.child.pid), cpu0));
        console.log(`  bridge: all accepted texts were in CXone ${drains.at(-1).toFixed(1)} s after the round`);
      }
      const base = Object.assign(combine(rounds.baseline, "baseline"), { cpu: cpu.baseline });
      const bridge = Object.assign(combine(rounds.bridge, "bridge"), { cpu: cpu.bridge });
      const drainS = Math.max(...drains);
      results.inbound = { base, bridge, drainS };
      // Issue 12, goal 2: the bridge's ack throughput ≥ 0.7× the baseline's, its p99 ≤ 2×.
      const throughput = bridge.rps / base.rps;
      const tail = bridge.p99 / base.p99;
      if (throughput < 0.7 || tail > 2) results.failures.push(`inbound acks at ${throughput.toFixed(2)}× the baseline's throughput (goal ≥ 0.7×) and ${tail.toFixed(2)}× its p99 (goal ≤ 2×)`);
      stoppers.splice(stoppers.indexOf(stopBaseline), 1);
      await stopBaseline();
    });

    if (cfg.phases.has("rate")) {
      step(`2a. rate bucket at ${cfg.rates.join(", ")} segments/s (${cfg.backlogSeconds} s backlog each)`);
      for (const rate of cfg.rates) {
        await phase(`rate bucket at ${rate}/s`, async () => {
          try {
            const { rows, series } = await benchRate(stack, [rate]);
            results.rate ??= { rows: [], series: {} };
            results.rate.rows.push(...rows);
            Object.assign(results.rate.series, series);
          } catch (err) {
            throw new Error(`${err.message}; ${await rateDiagnosis(stack, rateSender(rate))}`);
          }
        });
      }
    }

    if (cfg.phases.has("push")) await phase("agent pushes", async () => {
      step(`2b. agent pushes to POST /cxone/outbound: ${cfg.duration} s, ${cfg.connections} connections, one sender`);
      const requests = () => pushRequests({ secret: CREDS.CXONE_WEBHOOK_SECRET, from: PUSH_SENDER, conversations: 50 });
      await cannon({ url: local(stack.bridgeUrl), requests: requests(), duration: cfg.warmup, connections: cfg.connections, title: "push warm-up" });
      const cpu0 = groupCpu(stack.bridge.child.pid);
      results.push = await cannon({ url: local(stack.bridgeUrl), requests: requests(), duration: cfg.duration, connections: cfg.connections, title: "push" });
      results.push.cpu = cpuDiff(groupCpu(stack.bridge.child.pid), cpu0);
    });
    for (const stop of [stopBaseline, stopStack]) {
      const i = stoppers.indexOf(stop);
      if (i >= 0) await stoppers.splice(i, 1)[0]();
    }
  }

  // ───────────── Stack B: BENCH_METRICS="1", D1 seeded ─────────────
  if (["cost", "service", "drain", "ticks"].some((p) => cfg.phases.has(p))) {
    const dirB = tempDir("b");
    const first = cfg.sizes[0];
    step(`starting stack B (the bench entry, bench/worker/index.ts) on D1 seeded with ${first} messages`);
    migrate(dirB);
    let seeded = first;
    const seedTimes = { [first]: seed(dirB, 1, first) };
    const stack = await startStack({
      port: ports.bridge,
      twilioPort: ports.twilio,
      cxonePort: ports.cxone,
      persistTo: dirB,
      quiet: true,
      tickSeconds: 0,
      main: "bench/worker/index.ts",
      // No DevTools inspector (scripts/dev-worker.mjs): under the drain's load its relay of every log
      // line ran workerd out of file descriptors and wrangler restarted it mid-run.
      inspector: false,
      vars: { ...CREDS, SENDER_MPS: "50", RECONCILE_AFTER_MINUTES: "0.02", SENDER_MPS_OVERRIDES: JSON.stringify({ ...DRAIN_OVERRIDES, [SERVICE]: cfg.serviceRate }) },
    });
    const stopStack = () => stack.stop();
    stoppers.push(stopStack);

    if (cfg.phases.has("cost")) await phase("lifecycle cost", async () => {
      step(`3. cost per message lifecycle (${cfg.costMessages} of each)`);
      results.cost = await benchCost(stack, CREDS, { count: cfg.costMessages });
      results.tokenTotal = (await json(`${stack.cxoneUrl}/_emu/stats`)).tokenRequests;
    });

    if (cfg.phases.has("ticks")) {
      step(`4. cron tick cost at ${cfg.sizes.join(", ")} messages (${cfg.ticks} ticks each, ${cfg.stuck} stuck)`);
      await makeStuck(stack, CREDS.TWILIO_FROM_NUMBER, cfg.stuck);
      results.ticks = [];
      for (const size of cfg.sizes) {
        if (size > seeded) {
          await stack.bridge.stop();
          seedTimes[size] = seed(dirB, seeded + 1, size);
          seeded = size;
          await stack.restartBridge();
        }
        // The first tick after a start catches the poller up and warms the isolate: not counted.
        await measureTicks(stack, CREDS.ADMIN_TOKEN, { ticks: 1, gapMs: 0 });
        const rows = await measureTicks(stack, CREDS.ADMIN_TOKEN, { ticks: cfg.ticks, gapMs: 0 });
        const summary = { ...tickSummary(size, rows), seedS: seedTimes[size] };
        console.log(`  ${size} messages: ${JSON.stringify(summary)}`);
        results.ticks.push(summary);
      }
      const [small, large] = [results.ticks[0], results.ticks.at(-1)];
      const growth = large.rowsRead / Math.max(1, small.rowsRead);
      results.tickGrowth = growth;
      if (growth > 2) results.failures.push(`D1 rows read per tick grew ${growth.toFixed(2)}x from ${small.size} to ${large.size} messages (limit 2x)`);
    }
    if (cfg.phases.has("service")) await phase("a Messaging Service over its sender objects", async () => {
      step(`a Messaging Service at ${cfg.serviceRate}/s, ${cfg.serviceSeconds} s of backlog`);
      stack.adminToken = CREDS.ADMIN_TOKEN;
      results.service = await benchService(stack, { rate: cfg.serviceRate, count: cfg.serviceRate * cfg.serviceSeconds });
      const s = results.service;
      console.log(`  ${s.objects.length} objects: utilization ${(s.utilization * 100).toFixed(1)} % (${(s.steady * 100).toFixed(1)} % while all had work), worst window ${s.worst} at Twilio, ${s.worstDispatch} at dispatch (limit ${s.rate})`);
      // The promise is made where the bridge sends (contract §5), as for one sender (section 2a).
      if (s.worstDispatch > s.rate) results.failures.push(`a Messaging Service's objects together dispatched more than its rate in one second (${s.worstDispatch}, limit ${s.rate})`);
      if (s.worst > s.rate) results.failures.push(`Twilio received more than a Messaging Service's rate in one second (${s.worst}, limit ${s.rate})`);
      if (s.steady < 0.95) results.failures.push(`a Messaging Service used ${(s.steady * 100).toFixed(1)} % of its rate while its objects had work (goal ≥ 95 %)`);
    });
    // Last on this stack: its 100,000-message backlog goes on sending.
    if (cfg.phases.has("drain")) await phase("drain rate", async () => {
      step(`sending cost vs backlog (${cfg.drainBacklog} queued or deferred)`);
      results.drain = await benchDrain(stack, { backlog: cfg.drainBacklog });
      const d = results.drain;
      console.log(`  small ${d.scenarios.small.rate.toFixed(1)}/s, deferred ${d.scenarios.deferred.rate.toFixed(1)}/s (${(d.ratioDeferred * 100).toFixed(1)} %), queued ${d.scenarios.queued.rate.toFixed(1)}/s (${(d.ratioQueued * 100).toFixed(1)} %)`);
      if (d.ratioQueued < 0.95 || d.ratioDeferred < 0.95) results.failures.push(`drain rate with a backlog below 95 % of the small queue's (queued ${(d.ratioQueued * 100).toFixed(1)} %, deferred ${(d.ratioDeferred * 100).toFixed(1)} %)`);
    });

    stoppers.splice(stoppers.indexOf(stopStack), 1);
    await stopStack();
  }

  // ───────────── Stack C: a 100,000-recipient batch on a stack of its own ─────────────
  if (cfg.phases.has("batch")) await phase("a batch of 100,000 recipients", async () => {
    step(`starting stack C for one batch of ${cfg.batch} recipients at ${cfg.batchRate}/s`);
    const dirC = tempDir("c");
    migrate(dirC);
    const stack = await startStack({
      port: ports.bridge,
      twilioPort: ports.twilio,
      cxonePort: ports.cxone,
      persistTo: dirC,
      quiet: true,
      tickSeconds: 0,
      inspector: false,
      vars: { ...CREDS, SENDER_MPS: String(cfg.batchRate) },
    });
    const stopStack = () => stack.stop();
    stoppers.push(stopStack);
    try {
      results.batch = await benchBatch(stack, { count: cfg.batch, rate: cfg.batchRate, sender: CREDS.TWILIO_FROM_NUMBER, apiToken: CREDS.API_TOKEN, windowS: cfg.batchWindowS });
    } finally {
      stoppers.splice(stoppers.indexOf(stopStack), 1);
      await stopStack();
    }
    const b = results.batch;
    console.log(`  202 in ${b.answerMs.toFixed(0)} ms (${b.bodyMb.toFixed(1)} MB), ${b.sendRate.toFixed(1)} sends/s (${((b.sendRate / b.rate) * 100).toFixed(1)} % of ${b.rate}), ${b.resumedAfter} sent after the restart, ${b.duplicates} texted twice`);
    if (b.answerMs > 5_000) results.failures.push(`a batch of ${b.count} recipients was answered in ${(b.answerMs / 1000).toFixed(1)} s (goal ≤ 5 s)`);
    if (b.sendRate < 0.95 * b.rate) results.failures.push(`a batch drained at ${b.sendRate.toFixed(1)}/s, ${((b.sendRate / b.rate) * 100).toFixed(1)} % of its sender's ${b.rate}/s (goal ≥ 95 %)`);
    if (b.duplicates > 0) results.failures.push(`${b.duplicates} batch recipients were texted twice`);
  });

  // ───────────── Stack D: CXONE_API_MODE=dfo, the same load ─────────────
  if (cfg.phases.has("dfo")) await phase("DFO mode", async () => {
    step("starting stack D (CXONE_API_MODE=dfo, the DFO emulator)");
    results.dfo = await benchDfo({ ports, creds: CREDS, cfg, dir: tempDir("d"), local, step, sender: PUSH_SENDER });
  });
} catch (err) {
  results.failures.push(`the benchmark failed: ${err.stack ?? err}`);
  console.error(err);
} finally {
  await cleanup();
}

results.runtimeS = (Date.now() - started) / 1000;
results.load.push(loadavg()[0]);
const md = report(results);
writeFileSync(join(OUT, "results.md"), md);
console.log(`\n${md}`);
if (results.failures.length > 0) {
  console.error(`\nFAILED:\n- ${results.failures.join("\n- ")}`);
  process.exitCode = 1;
}

// ───────────── the report ─────────────

function report(r) {
  const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "–");
  const x = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : "–");
  const n1 = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  const wranglerVersion = (() => {
    try {
      return execFileSync("npx", ["wrangler", "--version"], { encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } }).trim().split("\n").at(-1);
    } catch {
      return "?";
    }
  })();
  const out = [];
  out.push(`# sms-bridge benchmark (\`npm run bench\`)`);
  out.push("");
  out.push(
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · ${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"} · ${Math.round(totalmem() / 2 ** 30)} GB · Node ${process.version} · wrangler ${wranglerVersion} (\`wrangler dev\`, local workerd, D1 and Durable Objects) · emulated Twilio and CXone (Node, same machine) · whole run ${r.runtimeS.toFixed(0)} s · load average ${r.load.map((l) => l.toFixed(1)).join(" → ")} (start → end) · state on ${TMP}${QUICK ? " · **BENCH_QUICK** (small sizes)" : ""}`,
  );
  out.push("");
  out.push(
    "Everything ran on one machine at once — load generator, two `wrangler dev` instances, the emulators — on shared cores, so absolute numbers are this machine's; ratios between targets measured back to back in the same run are the meaningful part.",
  );

  const summary = [];
  if (r.inbound) {
    const { base, bridge } = r.inbound;
    summary.push(`Inbound webhooks: bridge ${bridge.rps.toFixed(0)} req/s, p50/p95/p99 ${bridge.p50.toFixed(0)}/${bridge.p95.toFixed(0)}/${bridge.p99.toFixed(0)} ms vs baseline ${base.rps.toFixed(0)} req/s, ${base.p50.toFixed(0)}/${base.p95.toFixed(0)}/${base.p99.toFixed(0)} ms — ${(bridge.rps / base.rps).toFixed(2)}× the throughput, ${(bridge.p99 / base.p99).toFixed(2)}× the p99.`);
  }
  if (r.push) summary.push(`Agent pushes accepted: ${r.push.rps.toFixed(0)}/s (p99 ${r.push.p99.toFixed(0)} ms) into one sender.`);
  if (r.rate) summary.push(`Rate bucket: ${r.rate.rows.map((row) => `${row.rate}/s → worst second ${row.worstDispatch} at dispatch, ${row.worst} at Twilio, ${(row.utilization * 100).toFixed(0)} % used`).join("; ")}.`);
  if (r.cost) {
    const [newIn, oldIn, out_] = r.cost.map(perMessage);
    summary.push(
      `Per message (counted): inbound ${n1(oldIn.d1Queries)} D1 queries, ${n1(oldIn.subrequests)} subrequest, ${n1(oldIn.doRequests)} DO requests (a new customer: ${n1(newIn.subrequests)} subrequests); outbound with its receipt ${n1(out_.d1Queries)} D1 queries (${n1(out_.d1Writes)} of them writes; ${n1(out_.rowsRead)} rows read, ${n1(out_.rowsWritten)} written), ${n1(out_.subrequests)} subrequests, ${n1(out_.doRequests)} DO requests; CXone token requests 0 per message.`,
    );
  }
  if (r.service) summary.push(`A Messaging Service over ${r.service.objects.length} sender objects: ${(r.service.steady * 100).toFixed(0)} % of its ${r.service.rate}/s used while all had work, worst second ${r.service.worst} at Twilio (limit ${r.service.rate}).`);
  if (r.batch) summary.push(`A batch of ${r.batch.count.toLocaleString("en-US")} recipients: 202 in ${(r.batch.answerMs / 1000).toFixed(1)} s, drained at ${((r.batch.sendRate / r.batch.rate) * 100).toFixed(0)} % of its sender's ${r.batch.rate}/s, status reads p50 ${percentile(r.batch.reads, 50).toFixed(0)} ms, resumed after a restart with ${r.batch.duplicates} texted twice.`);
  if (r.drain) summary.push(`Sending cost vs backlog: ${r.drain.scenarios.small.rate.toFixed(0)} sends/s with 100–200 queued; ${(r.drain.ratioQueued * 100).toFixed(0)} % of that with ${r.drain.backlog.toLocaleString("en-US")} queued, ${(r.drain.ratioDeferred * 100).toFixed(0)} % behind ${r.drain.backlog.toLocaleString("en-US")} deferred.`);
  if (r.ticks) {
    summary.push(
      `Cron tick: ${r.ticks.map((t) => `${n1(t.rowsRead)} D1 rows read at ${t.size.toLocaleString("en-US")} messages`).join(", ")} — ${r.tickGrowth <= 2 ? "flat" : `**not flat (${r.tickGrowth.toFixed(1)}×)**`}; ${n1(r.ticks.at(-1).queries)} queries per tick at every size.`,
    );
  }
  if (summary.length > 0) out.push("", "## Summary", "", ...summary.map((line) => `- ${line}`));

  if (r.inbound) {
    const { base, bridge, drainS } = r.inbound;
    out.push("", "## 1. Inbound webhooks: `POST /twilio/inbound`, bridge vs baseline", "");
    out.push(
      `autocannon, ${cfg.connections} connections, ${cfg.inboundRounds} alternating round${cfg.inboundRounds === 1 ? "" : "s"} of ${cfg.duration} s per target (baseline, then bridge, then the bridge's texts into CXone before the next round; a target's row sums its rounds, its percentiles are over all its answers) after a warm-up of one text per customer (${cfg.customers} customers per target, so the measured texts are follow-ups in open threads) and then ${cfg.inboundWarmup} s of the same load (steady state: V8 has optimized both Workers' hot paths); every request a fresh \`MessageSid\` signed by the \`twilio\` package (\`getExpectedTwilioSignature\`). The **baseline** (bench/baseline/) is a Worker that checks the signature with the bridge's own code and forwards the text to the CXone emulator before answering — no Durable Object, no D1, no retries. The **bridge** answers once the text is durable in the customer's ConversationDO (no D1 statement before the 200), and delivers to CXone and writes D1 afterwards. Both run on wrangler's own dev server without the DevTools inspector (scripts/dev-worker.mjs): \`wrangler dev\` relays every console line of the Worker through the inspector to its Node process, a cost of the local tool that fell on the bridge's log lines and not on the silent baseline (on 2026-12-01 with the inspector: 0.55×, workerd + wrangler CPU per text 11.1 + 7.8 ms against 4.1 + 3.4). Without the inspector a console line still costs wrangler's Node process about 0.4 ms here (it parses the line, formats it and appends it to its own debug log file); a text delivered on its first try logs at \`debug\` only, so the bridge writes no \`info\` line for these texts (README, "Operating it"). Latencies of 2xx answers.`,
    );
    out.push("");
    const row = (name, s) => [name, s.ok, s.non2xx + s.errors, s.rps.toFixed(1), ms(s.p50), ms(s.p90), ms(s.p95), ms(s.p99), ms(s.max), cpuPer(s)];
    const cpuTotal = (s) => (s.cpu.workerd + s.cpu.other) / Math.max(1, s.ok);
    out.push(
      table(
        ["target", "2xx", "non-2xx / errors", "req/s", "p50", "p90", "p95", "p99", "max", "CPU per text: workerd + wrangler"],
        [
          row("baseline (signature + forward)", base),
          row("bridge", bridge),
          ["**bridge ÷ baseline**", "", "", x(bridge.rps, base.rps), x(bridge.p50, base.p50), x(bridge.p90, base.p90), x(bridge.p95, base.p95), x(bridge.p99, base.p99), x(bridge.max, base.max), x(cpuTotal(bridge), cpuTotal(base))],
        ],
      ),
    );
    out.push(
      "",
      "CPU per text = CPU time of the target's `wrangler dev` process group (/proc) ÷ texts accepted: workerd (the Worker, its Durable Objects and local D1, all in one process) + wrangler's Node process (dev proxy, log forwarding). The bridge's is counted until its texts were in CXone. Less sensitive than latency to other load on the machine.",
    );
    out.push("");
    for (const [name, s] of [["baseline", base], ["bridge", bridge]]) {
      if (s.refusals.length > 0) out.push(`${name}'s non-2xx answers (first ${s.refusals.length}): ${s.refusals.map((r) => `\`${r.replace(/`/g, "'")}\``).join("; ")}${proxyNote(s.refusals)}`, "");
    }
    out.push(
      `After each of the bridge's rounds, every accepted text was in CXone at most ${drainS.toFixed(1)} s later (delivery runs in the ConversationDO after the 200).`,
    );
    if (bridge.rounds?.length > 1) {
      out.push("", `Per round, bridge ÷ baseline: ${bridge.rounds.map((b, i) => `${x(b.rps, base.rounds[i].rps)} the throughput, ${x(b.p99, base.rounds[i].p99)} the p99`).join("; ")}.`);
    }
    out.push("", "![inbound latency percentiles, bridge vs baseline](latency.svg)");
    writeFileSync(
      join(OUT, "latency.svg"),
      barChart({
        title: `POST /twilio/inbound latency (${cfg.connections} connections, ${cfg.duration} s)`,
        yLabel: "ms",
        xLabel: "percentile",
        groups: ["p50", "p90", "p95", "p99"],
        series: [
          { name: `baseline (${base.rps.toFixed(0)} req/s)`, values: [base.p50, base.p90, base.p95, base.p99] },
          { name: `bridge (${bridge.rps.toFixed(0)} req/s)`, values: [bridge.p50, bridge.p90, bridge.p95, bridge.p99] },
        ],
      }),
    );
  }

  if (r.rate || r.push) out.push("", "## 2. Outbound");
  if (r.push) {
    const p = r.push;
    out.push("", "### Agent pushes accepted by `POST /cxone/outbound`", "");
    out.push(
      `autocannon, ${cfg.connections} connections, ${cfg.duration} s, each push a new CXone message id (bearer \`CXONE_WEBHOOK_SECRET\`), 50 conversations, all from one sender — so every accept is a D1 claim plus an enqueue into that one sender's SenderDO (the send itself happens later, at the sender's rate).`,
    );
    out.push("");
    if (p.refusals.length > 0) out.push(`Non-2xx answers (first ${p.refusals.length}): ${p.refusals.map((x) => `\`${x.replace(/`/g, "'")}\``).join("; ")}${proxyNote(p.refusals)}`, "");
    out.push(table(["pushes accepted (200)", "non-2xx / errors", "pushes/s", "p50", "p95", "p99", "max", "CPU per push: workerd + wrangler"], [[p.ok, p.non2xx + p.errors, p.rps.toFixed(1), ms(p.p50), ms(p.p95), ms(p.p99), ms(p.max), cpuPer(p)]]));
  }
  if (r.rate) {
    out.push("", "### Rate bucket (`benchRate` from bench/rate.mjs)", "");
    out.push(
      `A backlog of ${cfg.backlogSeconds} s worth of one-segment messages pushed at once per sender, timed where Twilio (the emulator) received them; then single messages arriving when the bucket has room.`,
    );
    out.push("", rateTable(r.rate.rows), "");
    out.push("Added delay = from the push until Twilio has the message, for a message arriving when the bucket has room; it includes the 250 ms ordering window (OUTBOUND_ORDER_WINDOW_MS).");
    const overAtTwilio = r.rate.rows.filter((row) => row.worst > row.rate && row.worstDispatch <= row.rate);
    if (overAtTwilio.length > 0) {
      out.push(
        "",
        `At ${overAtTwilio.map((row) => `${row.rate}/s`).join(", ")} the bucket dispatched within the limit, but Twilio (the emulator) saw ${overAtTwilio.map((row) => row.worst).join(", ")} sends in its worst one-second window: the sender's window (src/domain/outbound/bucket.ts) lets a send leave only a second after Twilio answered the one rate places before it, so this is a fault in the bridge, or a clock that differs between the bridge and the emulator.`,
      );
    }
    const badRate = r.rate.rows.filter((row) => row.worstDispatch > row.rate);
    if (badRate.length > 0) r.failures.push(`the rate bucket dispatched more than its limit in one second at ${badRate.map((row) => `${row.rate}/s`).join(", ")}`);
    if (overAtTwilio.length > 0) r.failures.push(`Twilio received more than the rate bucket's limit in one second at ${overAtTwilio.map((row) => `${row.rate}/s`).join(", ")}`);
    const starved = r.rate.rows.filter((row) => row.utilization < 0.95);
    if (starved.length > 0) {
      out.push(
        "",
        `Utilization below 95 % (${starved.map((row) => `${row.rate}/s`).join(", ")}): the sender was not kept busy. The backlog reaches the bridge through the CXone emulator's pushes, 16 at a time, while the same isolate also sends, takes Twilio's status callbacks and reports receipts, all on cores shared with everything else on this machine (the plot shows the gaps); pushes alone were accepted at ${r.push ? `${r.push.rps.toFixed(0)}/s` : "the rate measured above"}. The bucket's own guarantee is the dispatch-side worst window, which must stay at or under the limit.`,
      );
    }
    out.push("", "![sends per second at Twilio during the backlog](rate.svg)");
    writeFileSync(
      join(OUT, "rate.svg"),
      stepChart({
        title: "Rate bucket: sends per second at Twilio while a backlog drains",
        yLabel: "messages (1 segment each) per second",
        xLabel: "seconds since the first send",
        series: r.rate.rows.map((row) => ({ name: `${row.rate} segments/s sender`, points: perSecond(r.rate.series[row.rate]) })),
        limits: r.rate.rows.map((row) => ({ value: row.rate, label: `limit ${row.rate}/s` })),
      }),
    );
  }

  if (r.cost) {
    out.push("", "## 3. Cost per message lifecycle (counted, not estimated)", "");
    out.push(
      `Stack B runs the bench's own entry (\`bench/worker/index.ts\`, the product Worker and its object classes wrapped by \`bench/worker/instrumentation.ts\`), which counts at the choke points, and \`GET /__metrics\` reads the counters. Each kind ran ${cfg.costMessages} times after a warm-up; the counters cover everything until the bridge was quiet again (alarms, D1 mirror writes, receipts), divided by ${cfg.costMessages}. "Emulators saw" is the emulators' own count of the same traffic.`,
    );
    out.push("");
    const rows = r.cost.map((c) => {
      const p = perMessage(c);
      return [c.kind, n1(p.workerRequests), n1(p.d1Queries), n1(p.d1Writes), n1(p.d1Calls), n1(p.rowsRead), n1(p.rowsWritten), `${n1(p.subrequests)} (CXone ${n1(p.cxone)}, Twilio ${n1(p.twilio)})`, `${n1(p.doRequests)} (${n1(p.doAlarms)} alarms)`, n1(p.tokenRequests), `CXone ${n1(p.seenCxone)}, Twilio sends ${n1(p.seenTwilioSends)}`];
    });
    out.push(
      table(["per message", "Worker requests", "D1 queries", "of them writes", "D1 round trips", "D1 rows read", "D1 rows written", "subrequests", "DO requests", "CXone token requests", "emulators saw"], rows),
    );
    const [, existing, lifecycle] = r.cost.map(perMessage);
    const goal1 = existing.d1Writes <= 1 && existing.rowsWritten <= 4 && lifecycle.d1Writes <= 3 && lifecycle.rowsWritten <= 10;
    out.push(
      "",
      `Goal (issue 12, goal 1): an inbound text ≤ 1 D1 write statement and ≤ 4 rows written (here ${n1(existing.d1Writes)} and ${n1(existing.rowsWritten)}); an outbound lifecycle with its receipts ≤ 3 write statements and ≤ 10 rows written (here ${n1(lifecycle.d1Writes)} and ${n1(lifecycle.rowsWritten)}) — ${goal1 ? "met" : "**not met**"}. The outbound lifecycle lives in the sender object (src/do/sender-lifecycle.ts): the status callbacks reach it by the routing keys in their StatusCallback URL, its reports to CXone wait and retry in its own table, and D1 gets the claim, then the message's latest state written behind, every row changed within a second in one statement.`,
    );
    if (!goal1) r.failures.push("goal 1: D1 writes per message above target");
    out.push("", "<details><summary>Breakdown (totals over the batch)</summary>", "");
    for (const c of r.cost) {
      out.push(`**${c.kind}** (${c.count} messages)`, "");
      out.push(`- Worker requests: ${fmtMap(c.m.workerRequests)}`);
      out.push(`- D1 by API method: ${fmtMap(c.m.d1.byMethod)} · rows from ${c.m.d1.rowsFrom === "wire" ? "every D1 answer" : "all/run/batch results only"} · D1 SQL time ${c.m.d1.durationMs.toFixed(0)} ms`);
      out.push(`- subrequests: ${fmtMap(c.m.subrequests.byRoute)}`);
      out.push(`- Durable Object calls: ${fmtMap(c.m.durableObjects.calls)} · alarms: ${fmtMap(c.m.durableObjects.alarms)}`);
      out.push(`- CXone emulator: ${fmtMap(c.seen.cxoneByRoute)}, token requests ${c.seen.cxoneTokens}; Twilio emulator: ${c.seen.twilioSends} sends`);
      out.push("");
    }
    out.push("</details>");
    const mismatches = r.cost.filter((c) => c.bridge.cxone !== c.seen.cxoneCalls + c.seen.cxoneTokens || c.bridge.twilioSends !== c.seen.twilioSends);
    out.push(
      "",
      mismatches.length === 0
        ? "Cross-check: the instrumentation's CXone calls (token included) and Twilio sends equal the emulators' counts for every kind — so work done inside the Durable Objects (their alarms deliver inbound texts and send outbound ones) is counted: under `wrangler dev` the objects run in the Worker's isolate."
        : `Cross-check MISMATCH for: ${mismatches.map((c) => c.kind).join("; ")} — see the breakdown.`,
    );
    if (mismatches.length > 0) r.failures.push("instrumentation and emulator counts differ");
    if (r.tokenTotal !== undefined) {
      out.push(
        "",
        `CXone token requests: ${r.tokenTotal} in all of stack B up to here (warm-up included), for ${3 * cfg.costMessages + 2} message lifecycles — the token is cached per isolate and in CxoneTokenDO and refreshed per token lifetime (3600 s in the emulator), never per message.`,
      );
    }
  }

  if (r.drain) out.push("", "## 3b. Sending cost vs backlog", "", ...drainSection(r.drain));
  if (r.cost) {
    const [, inbound, outbound] = r.cost.map(perMessage);
    out.push("", "## 3c. The paper plan: 10 million messages a day", "", ...planSection({ inbound, outbound }));
  }
  if (r.service) out.push("", "## 3d. A Messaging Service over several sender objects", "", ...serviceSection(r.service));
  if (r.batch) out.push("", "## 3e. A batch of 100,000 recipients", "", ...batchSection(r.batch));

  if (r.ticks) {
    out.push("", "## 4. Cron tick cost vs D1 size", "");
    out.push(
      `D1 seeded in bulk before the bridge starts (\`wrangler d1 execute --local --file\`, recursive-CTE inserts): per N messages, N/5 conversations, N/2 done receipts in the outbox and N/2 status callbacks; 1 % of the messages still wait for a final status with their check in the future, 1 % of the conversations are proactive with an idle close in the future. At every size the same ${cfg.stuck} messages' carrier never reports past "sent" (RECONCILE_AFTER_MINUTES=0.02, so they are due again and again): the reconciler asked Twilio about them on each tick until issue 12 (goal 6); now their sender object does, on its own alarm and backoff, so the tick makes no Twilio lookup at any size. Each tick = poll CXone (PollerDO) + reconcile; ${cfg.ticks} ticks per size after an uncounted warm-up tick; means per tick.`,
    );
    out.push("");
    out.push(
      table(
        ["messages in D1", "seeding", "D1 queries / tick", "D1 rows read / tick", "D1 rows written / tick", "D1 SQL ms / tick", "subrequests / tick", "Twilio lookups / tick", "DO requests / tick", "tick wall time (median, max)"],
        r.ticks.map((t) => [t.size.toLocaleString("en-US"), `${t.seedS.toFixed(1)} s`, n1(t.queries), n1(t.rowsRead), n1(t.rowsWritten), t.d1Ms.toFixed(1), n1(t.subrequests), n1(t.twilioLookups), n1(t.doRequests), `${t.msMedian} ms, ${t.msMax} ms`]),
      ),
    );
    const small = r.ticks[0];
    const large = r.ticks.at(-1);
    out.push(
      "",
      `Rows read per tick at ${large.size.toLocaleString("en-US")} ÷ at ${small.size.toLocaleString("en-US")}: **${r.tickGrowth.toFixed(2)}×** (the script fails above 2×) — ${r.tickGrowth <= 2 ? "flat: every reconciler query reads through a partial index of what is due, not the table." : "NOT flat."}`,
    );
    const worst = large.topSql[0];
    const before = worst && small.topSql.find((q) => q.sql === worst.sql);
    if (worst && r.tickGrowth > 2 && before && worst.rowsRead > 2 * Math.max(1, before.rowsRead)) {
      out.push(
        "",
        `The growth is one statement: \`${worst.sql.slice(0, 110)}…\` reads ${n1(worst.rowsRead)} rows per tick at ${large.size.toLocaleString("en-US")} messages and ${n1(before.rowsRead)} at ${small.size.toLocaleString("en-US")} — it scans its table instead of reading an index of what is due.`,
      );
    }
    out.push("", `Statements reading the most rows per tick at ${large.size.toLocaleString("en-US")} messages:`, "");
    out.push(
      table(
        ["statement (first 160 characters)", "runs / tick", "rows read / tick", "rows written / tick"],
        large.topSql.map((q) => [`\`${q.sql.replace(/\|/g, "\\|").replace(/`/g, "'")}\``, n1(q.count), n1(q.rowsRead), n1(q.rowsWritten)]),
      ),
    );
    out.push("", "![D1 work per cron tick vs table size](ticks.svg)");
    writeFileSync(
      join(OUT, "ticks.svg"),
      barChart({
        title: "D1 work per cron tick vs messages stored",
        yLabel: "per tick",
        xLabel: "messages in D1",
        groups: r.ticks.map((t) => t.size.toLocaleString("en-US")),
        series: [
          { name: "rows read", values: r.ticks.map((t) => t.rowsRead) },
          { name: "rows written", values: r.ticks.map((t) => t.rowsWritten) },
          { name: "queries", values: r.ticks.map((t) => t.queries) },
        ],
      }),
    );
  }

  if (r.dfo) {
    out.push("", "## 5. DFO mode beside open-messaging (same load, same run)", "");
    const row = (name, x) => (x ? `| ${name} | ${x.rps.toFixed(1)} | ${ms(x.p50)} | ${ms(x.p99)} | ${x.non2xx + x.errors} |` : `| ${name} | – | – | – | – |`);
    out.push("| measure | req/s | p50 | p99 | non-2xx + errors |", "|---|---|---|---|---|");
    out.push(row("inbound webhooks, open-messaging", r.inbound?.bridge), row("inbound webhooks, DFO", r.dfo.inbound));
    out.push(row("agent replies: open-messaging push (`POST /cxone/outbound`)", r.push), row("agent replies: DFO callback (`POST /cxone/dfo/2.0/channel/…/outbound`)", r.dfo.replies));
    out.push("", `DFO: every accepted text was in its DFO thread ${r.dfo.inbound.drainS?.toFixed(1) ?? "–"} s after the run. A reply callback is answered once the reply is durably queued (contract §8: within 2 s).`);
  }
  out.push("", "## What is and isn't counted", "");
  out.push(
    [
      "- **Counted** (bench/worker/instrumentation.ts, stack B only): every D1 statement through the env's D1 binding, by API method, with rows read/written and SQL time from D1's own `meta` of every answer; every outbound HTTP call (the isolate's fetch: Twilio, CXone, the CXone token), by host and route; every call through a Durable Object stub obtained from the instrumented env (the Worker's and the objects' own), plus every alarm of ConversationDO, SenderDO and BatchDO; Worker requests; cron run time.",
      "- Durable Objects under `wrangler dev` share the Worker's isolate, so their work lands in the same counters — shown by the cross-check with the emulators above. Deployed, objects may run elsewhere; `/__metrics` is a local measuring tool.",
      "- **Not counted**: the Durable Objects' own SQLite storage (rows read/written by `ctx.storage.sql`, billed separately from D1), alarm scheduling calls (`setAlarm`) and CPU time per request inside the Worker (section 1's CPU figures come from /proc, per process, not from the instrumentation).",
      "- The run used a snapshot of the working tree copied at its start (src, migrations, emulators, scripts, bench, config): `wrangler dev` restarts the Worker when a watched file changes, which answers 503 to requests in flight, so edits made meanwhile must not reach the running stacks.",
      `- Stack A (all throughput figures) runs the product Worker, which has no counters: \`GET /__metrics\` is its 404${r.metricsOff !== undefined ? ` (checked: it answered ${r.metricsOff})` : ""}.`,
      "- Noise: 2 shared cores run autocannon, workerd (twice during the inbound runs), wrangler and the Node emulators at once, and other work on the machine competes with them; expect run-to-run variation of tens of percent in req/s and in tail latencies. Counts (section 3 and 4) are deterministic up to timing (e.g. how many alarms a batch coalesces into).",
    ].join("\n"),
  );
  if (r.failures.length > 0) out.push("", "## FAILED", "", ...r.failures.map((f) => `- ${f.split("\n")[0]}`));
  out.push("");
  return out.join("\n");
}

/** wrangler dev's proxy answers 503 "Your worker restarted mid-request" when it loses a request on its way to the Worker. */
function proxyNote(refusals) {
  return refusals.some((r) => r.includes("restarted mid-request"))
    ? " — a 503 with that text comes from `wrangler dev`'s own proxy (templates/startDevWorker/ProxyWorker.ts) when it loses the connection to the Worker under load; the request never reached the bridge."
    : "";
}

function cpuPer(s) {
  if (!s.cpu) return "–";
  const per = (v) => (v / Math.max(1, s.ok)).toFixed(1);
  return `${per(s.cpu.workerd)} + ${per(s.cpu.other)} ms`;
}

function fmtMap(map) {
  const entries = Object.entries(map ?? {});
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k} ${v}`).join(", ");
}
