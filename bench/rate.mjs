/**
 * `npm run bench:rate`: the per-sender rate bucket under `wrangler dev`, against the Twilio
 * emulator, in real time. For 1, 5 and 30 segments/s: a backlog of 20 s worth of messages
 * (utilization = achieved ÷ allowed, worst one-second window as Twilio saw it), then messages
 * that arrive when the bucket has room (the delay the bridge adds, p50/p99).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStack } from "../scripts/stack.mjs";
import { json, percentile, post, sleep, table, until, worstWindow } from "./lib.mjs";

const RATES = (process.env.BENCH_RATES ?? "1,5,30").split(",").map(Number);
const BACKLOG_SECONDS = Number(process.env.BENCH_BACKLOG_SECONDS ?? 20);
const IDLE_SAMPLES = Number(process.env.BENCH_IDLE_SAMPLES ?? 15);
const sender = (rate) => `+1555000${String(3000 + rate).padStart(4, "0")}`;

export async function benchRate(stack, rates = RATES) {
  const rows = [];
  const series = {};
  let n = 0;
  // A push the bridge did not answer 200 is pushed again with the same id, as CXone retries (under
  // load `wrangler dev`'s own proxy can drop a request with a 503 before the bridge sees it).
  const reply = async (rate, to) => {
    const item = { conversationId: `bench-${rate}-${++n}`, to, from: sender(rate), body: `bench ${n}`, push: true };
    let answer = await post(`${stack.cxoneUrl}/_emu/agent-reply`, item);
    for (let attempt = 1; answer.pushed !== 200 && attempt < 5; attempt++) {
      await sleep(200 * attempt);
      answer = await post(`${stack.cxoneUrl}/_emu/agent-reply`, { ...item, id: answer.id });
    }
    return answer;
  };
  const arrivals = async (rate) => json(`${stack.twilioUrl}/_emu/messages?from=${encodeURIComponent(sender(rate))}`);

  for (const rate of rates) {
    const before = (await arrivals(rate)).length;
    // Backlog: everything at once, each to its own conversation so only the bucket holds them back.
    const count = rate * BACKLOG_SECONDS;
    // Pushed 16 at a time, as CXone's webhook delivery would, rather than hundreds of sockets at once.
    const recipients = Array.from({ length: count }, (_, i) => `+1628${String(rate).padStart(3, "0")}${String(i).padStart(4, "0")}`);
    for (let i = 0; i < count; i += 16) await Promise.all(recipients.slice(i, i + 16).map((to) => reply(rate, to)));
    const sent = await until(`${count} sends at ${rate}/s`, async () => {
      const all = (await arrivals(rate)).slice(before);
      return all.length >= count ? all : undefined;
    }, (BACKLOG_SECONDS * 3 + 60) * 1000, 500);
    const times = sent.map((m) => ({ at: m.receivedAt, segments: Number(m.num_segments) }));
    const dispatched = (await json(`${stack.bridgeUrl}/admin/senders/${encodeURIComponent(sender(rate))}`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).sent;
    const span = (times.at(-1).at - times[0].at) / 1000;
    const achieved = (times.length - 1) / span;
    series[rate] = times.map((t) => t.at - times[0].at);

    // Room in the bucket: one message at a time, spaced well beyond the bucket's spacing.
    await sleep(2_000);
    const delays = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      const to = `+1629${String(rate).padStart(3, "0")}${String(i).padStart(4, "0")}`;
      const started = Date.now();
      await reply(rate, to);
      const m = await until("the idle send", async () => (await arrivals(rate)).find((x) => x.to === to), 30_000, 5);
      delays.push(m.receivedAt - started);
      await sleep(Math.max(300, 2_200 / rate));
    }
    const row = { rate, count, span, achieved, utilization: achieved / rate, worst: worstWindow(times, rate), worstDispatch: worstWindow(dispatched, rate), p50: percentile(delays, 50), p99: percentile(delays, 99) };
    rows.push(row);
    console.log(`rate ${rate}/s: ${count} sends over ${span.toFixed(2)} s, utilization ${(row.utilization * 100).toFixed(1)}%, worst window at Twilio ${row.worst} (at dispatch ${row.worstDispatch}), idle delay p50 ${row.p50} ms p99 ${row.p99} ms`);
  }
  return { rows, series };
}

export function rateTable(rows) {
  return table(
    ["rate (segments/s)", "backlog sent", "drain time", "utilization (achieved ÷ allowed)", "worst 1-s window at Twilio", "worst 1-s window at dispatch", "added delay p50", "added delay p99"],
    rows.map((r) => [r.rate, r.count, `${r.span.toFixed(2)} s`, `${(r.utilization * 100).toFixed(1)} %`, `${r.worst} (limit ${r.rate})`, `${r.worstDispatch}`, `${r.p50} ms`, `${r.p99} ms`]),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = mkdtempSync(join(tmpdir(), "sms-bridge-bench-rate-"));
  const overrides = Object.fromEntries(RATES.map((r) => [sender(r), r]));
  const stack = await startStack({ port: 29_787, twilioPort: 29_788, cxonePort: 29_789, persistTo: dir, quiet: true, tickSeconds: 0, vars: { SENDER_MPS_OVERRIDES: JSON.stringify(overrides), ADMIN_TOKEN: "bench-admin" } });
  stack.adminToken = "bench-admin";
  try {
    const { rows } = await benchRate(stack);
    const md = `## Rate bucket (\`npm run bench:rate\`, wrangler dev + Twilio emulator, ${new Date().toISOString().slice(0, 10)})\n\n${rateTable(rows)}\n\nAdded delay = from the push to /cxone/outbound until Twilio has the message, for a message arriving when the bucket has room; it includes the ${process.env.OUTBOUND_ORDER_WINDOW_MS ?? 250} ms ordering window (OUTBOUND_ORDER_WINDOW_MS).\n`;
    console.log(`\n${md}`);
    mkdirSync("bench", { recursive: true });
    writeFileSync("bench/results-rate.md", md);
    const bad = rows.filter((r) => r.worst > r.rate || r.utilization < 0.95);
    if (bad.length > 0) {
      console.error(`rate limits broken or underused: ${JSON.stringify(bad)}`);
      process.exitCode = 1;
    }
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
