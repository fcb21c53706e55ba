/**
 * `npm run bench:retention`: how many rows one Cron tick deletes when settled history is past
 * RETENTION_DAYS (contract §10), under `wrangler dev` with local D1. Local D1 is seeded in bulk while
 * the bridge is stopped with BENCH_RETENTION_MESSAGES (default 60,000) settled messages 31 days
 * old — half outbound, each with two status events and two CXone reports, as a real lifecycle
 * leaves them; half inbound — then Cron ticks run one after another through /__scheduled and
 * each tick's `retention.done` line (its counts) is read from the bridge's log. Writes
 * bench/results-retention.md.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, startStack } from "../scripts/stack.mjs";
import { sleep, table } from "./lib.mjs";

const MESSAGES = Number(process.env.BENCH_RETENTION_MESSAGES ?? 60_000);
const PORT = Number(process.env.BENCH_PORT ?? 39_787);
const DAY = 86_400_000;

/** A report body as the bridge stores it (src/domain/receipts.ts), for a realistic row size. */
const REPORT_JSON = `'{"status":"' || s.status || '","deliveryReceipt":{"status":"' || s.status || '","timestamp":"2026-10-30T12:00:00.000Z","providerMessageId":"SMold' || printf('%027d', n) || '"}}'`;

/** Settled messages 1..count, 31 days old, with the rows an outbound lifecycle leaves behind. */
function seedSql(count, now) {
  const seq = `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${count})`;
  const at = `(${now - 31 * DAY} + n)`;
  const outbound = "(n % 2 = 0)";
  return `${seq}
INSERT INTO messages (direction, cxone_message_id, message_sid, customer, sender, state, twilio_status, segments, encoding, attempts, created_at, updated_at)
SELECT CASE WHEN ${outbound} THEN 'outbound' ELSE 'inbound' END, 'old-msg-' || n, 'SMold' || printf('%027d', n), '+1999' || printf('%07d', n / 5), '+15550002000',
       CASE WHEN ${outbound} THEN 'settled' ELSE 'delivered' END, CASE WHEN ${outbound} THEN 'delivered' END, 1, 'GSM-7', 1, ${at}, ${at}
FROM seq;
${seq}
INSERT INTO outbox (cxone_message_id, status, payload, state, attempts, next_attempt_at, created_at)
SELECT 'old-msg-' || n, s.status, ${REPORT_JSON}, 'done', 1, ${at}, ${at} FROM seq, (SELECT 'SENT' AS status UNION ALL SELECT 'DELIVERED') s WHERE ${outbound};
${seq}
INSERT INTO status_events (message_sid, status, received_at, matched)
SELECT 'SMold' || printf('%027d', n), s.status, ${at}, 1 FROM seq, (SELECT 'sent' AS status UNION ALL SELECT 'delivered') s WHERE ${outbound};
`;
}

function execute(persistTo, file) {
  const result = spawnSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", persistTo, "--file", file, "--yes"], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status !== 0) throw new Error(`seeding failed:\n${result.stdout}\n${result.stderr}`);
}

/** Bytes of local D1's SQLite files (database and write-ahead log) under `persistTo`. */
function d1Bytes(persistTo) {
  let total = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.sqlite(-wal)?$/.test(e.name) && p.includes("D1")) total += statSync(p).size;
    }
  };
  walk(persistTo);
  return total;
}

/** The `retention.done` lines the bridge has logged so far. */
function retentionLines(logFile) {
  let text = "";
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.includes('"retention.done"'))
    .map((l) => JSON.parse(l.slice(l.indexOf("{"))));
}

const dir = mkdtempSync(join(process.env.BENCH_TMPDIR ?? (process.platform === "linux" ? "/dev/shm" : tmpdir()), "sms-bridge-retention-"));
const started = Date.now();
try {
  migrate(dir);
  const empty = d1Bytes(dir);
  const file = join(dir, "seed.sql");
  writeFileSync(file, seedSql(MESSAGES, Date.now()));
  const seedStarted = Date.now();
  execute(dir, file);
  const rows = MESSAGES + (MESSAGES / 2) * 4;
  const perMessage = (d1Bytes(dir) - empty) / MESSAGES;
  console.log(`seeded ${MESSAGES} settled messages (${rows} rows) 31 days old in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s: ${perMessage.toFixed(0)} bytes of D1 per message, indexes included`);

  const stack = await startStack({ port: PORT, twilioPort: PORT + 1, cxonePort: PORT + 2, persistTo: dir, quiet: true, tickSeconds: 0 });
  const log = join(dir, "logs", "bridge.log");
  const ticks = [];
  try {
    for (let i = 0; i < 50; i++) {
      const before = retentionLines(log).length;
      const at = Date.now();
      await stack.tick();
      let line;
      for (let waited = 0; waited < 60_000 && !line; waited += 100) {
        line = retentionLines(log)[before];
        if (!line) await sleep(100);
      }
      if (!line) break; // nothing left: a quiet tick logs nothing
      const parse = (what) => Number(new RegExp(`(\\d+) ${what}`).exec(line.reason)?.[1] ?? 0);
      ticks.push({ tick: i + 1, ms: Date.parse(line.ts) - at, messages: parse("messages"), events: parse("status events"), reports: parse("reports"), rows: line.count });
      console.log(`tick ${i + 1}: ${line.count} rows (${parse("messages")} messages) in ${Date.parse(line.ts) - at} ms`);
    }
  } finally {
    await stack.stop();
  }
  // With a backlog bigger than a tick's cap, the largest ticks are the full ones: the cap, measured.
  const cap = Math.max(0, ...ticks.map((t) => t.messages));
  const full = ticks.filter((t) => t.messages === cap);
  const perTick = full.length > 0 ? full : ticks;
  const mean = (f) => perTick.reduce((s, t) => s + f(t), 0) / perTick.length;
  const deleted = ticks.reduce((s, t) => s + t.messages, 0);
  const summary = [
    `# Retention`,
    ``,
    `Command: \`npm run bench:retention\` (${new Date().toISOString().slice(0, 10)}, ${((Date.now() - started) / 1000).toFixed(0)} s): local D1 under \`wrangler dev\` seeded with ${MESSAGES} settled messages 31 days old (${rows} rows: half outbound with 2 status events and 2 reports each, half inbound), then Cron ticks one after another.`,
    ``,
    table(["tick", "messages deleted", "status events", "reports", "rows deleted", "ms"], ticks.map((t) => [t.tick, t.messages, t.events, t.reports, t.rows, t.ms])),
    ``,
    `Storage: ${perMessage.toFixed(0)} bytes of D1 per message (the mean of an outbound lifecycle and an inbound text, indexes included; SQLite file size after seeding).`,
    ``,
    `${deleted} of ${MESSAGES} messages deleted in ${ticks.length} ticks. A full tick (the per-tick cap) deleted ${mean((t) => t.messages).toFixed(0)} messages and ${mean((t) => t.rows).toFixed(0)} rows in ${mean((t) => t.ms).toFixed(0)} ms: at one tick a minute, ${((mean((t) => t.messages) * 1440) / 1e6).toFixed(1)} million messages a day, against the 10 million a day (6,944 a minute) the bridge is sized for.`,
  ].join("\n");
  writeFileSync("bench/results-retention.md", `${summary}\n`);
  console.log(`\n${summary}`);
  if (deleted < MESSAGES) process.exitCode = 1;
} finally {
  if (process.env.BENCH_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
}
