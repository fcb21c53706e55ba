/**
 * What one Cron Trigger tick (poll CXone + reconcile) costs as D1 grows: local D1 is seeded in
 * bulk (one recursive-CTE INSERT per table through `wrangler d1 execute --local`, while the
 * bridge is stopped) to each size in turn, then several ticks are run through wrangler dev's
 * /__scheduled and counted by the bridge's instrumentation. The seeded history is settled (no
 * check due); 1 % of it is outbound still waiting for a final status with its check in the
 * future, 1 % of the conversations are proactive with an idle close in the future. What is due is
 * the same handful at every size: messages whose carrier never reports past "sent", which the
 * reconciler asks Twilio about on every tick (RECONCILE_AFTER_MINUTES is set to seconds).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { json, post, sleep, until } from "./lib.mjs";
import { pushReply } from "./cost.mjs";
import { bridgeView, metricsClient } from "./metrics.mjs";

/** SQL adding messages number `from`..`to` (and their conversations, receipts, callbacks). */
export function seedSql(from, to, now = Date.now()) {
  const seq = `WITH RECURSIVE seq(n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM seq WHERE n < ${to})`;
  const at = `(${now} - (${to + 10} - n) * 1000)`;
  const conv = `'seed-conv-' || (n / 5)`;
  const customer = `'+1999' || printf('%07d', n / 5)`;
  const outbound = `(n % 2 = 0)`;
  return `-- bench seed: messages ${from}..${to}
${seq}
INSERT INTO conversations (id, customer, business, status, proactive, campaign_id, created_at, last_inbound_at, idle_close_at)
SELECT 'seed-conv-' || (n / 5), '+1999' || printf('%07d', n / 5), '+15550002000', 'active', (n % 500 = 0), CASE WHEN n % 500 = 0 THEN 'seed-campaign' END,
       ${at}, ${at}, CASE WHEN n % 500 = 0 THEN ${now} + 86400000 END
FROM seq WHERE n % 5 = 0;
${seq}
INSERT INTO messages (direction, cxone_message_id, message_sid, conversation_id, customer, sender, state, twilio_status, segments, encoding, attempts, created_at, updated_at, cxone_created_at, submitted_at, check_at)
SELECT CASE WHEN ${outbound} THEN 'outbound' ELSE 'inbound' END,
       'seed-msg-' || n, 'SMseed' || printf('%026d', n), ${conv}, ${customer}, '+15550002000',
       CASE WHEN NOT ${outbound} THEN 'delivered' WHEN n % 100 = 0 THEN 'submitted' ELSE 'settled' END,
       CASE WHEN NOT ${outbound} THEN NULL WHEN n % 100 = 0 THEN 'sent' ELSE 'delivered' END,
       1, 'GSM-7', 1, ${at}, ${at}, CASE WHEN ${outbound} THEN strftime('%Y-%m-%dT%H:%M:%fZ', ${at} / 1000.0, 'unixepoch') END,
       CASE WHEN ${outbound} THEN ${at} END, CASE WHEN ${outbound} AND n % 100 = 0 THEN ${now} + 86400000 END
FROM seq;
${seq}
INSERT INTO outbox (cxone_message_id, status, payload, state, attempts, next_attempt_at, created_at)
SELECT 'seed-msg-' || n, 'DELIVERED', '{"status":"DELIVERED"}', 'done', 1, ${at}, ${at} FROM seq WHERE ${outbound} AND n % 100 <> 0;
${seq}
INSERT INTO status_events (message_sid, status, error_code, received_at, matched)
SELECT 'SMseed' || printf('%026d', n), 'delivered', NULL, ${at}, 1 FROM seq WHERE ${outbound} AND n % 100 <> 0;
`;
}

/** Seeds local D1 in `persistTo` (the bridge must not be running on it). */
export function seed(persistTo, from, to) {
  const file = join(persistTo, `seed-${from}-${to}.sql`);
  writeFileSync(file, seedSql(from, to));
  const started = Date.now();
  const result = spawnSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", persistTo, "--file", file, "--yes"], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status !== 0) throw new Error(`seeding failed:\n${result.stdout}\n${result.stderr}`);
  return (Date.now() - started) / 1000;
}

/**
 * The handful that stays due: agent replies whose carrier never reports past "sent" (the Twilio
 * emulator's outcome for those numbers), so every tick asks Twilio about them again.
 */
export async function makeStuck(stack, business, count) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    const to = `+1626${String(i).padStart(7, "0")}`;
    await post(`${stack.twilioUrl}/_emu/outcome/${encodeURIComponent(to)}`, { status: "sent" });
    ids.push(await pushReply(stack, { conversationId: `stuck-${i}`, to, from: business, body: "no receipt will come" }));
  }
  // Sent, and Twilio said "sent": the SENT receipt is CXone's last word for these.
  await until(
    "the stuck messages to be sent",
    async () => {
      const reports = await json(`${stack.cxoneUrl}/_emu/reports`);
      return ids.every((id) => (reports[id] ?? []).some((r) => r.body.status === "SENT"));
    },
    60_000,
    200,
  );
  return ids;
}

/** Runs `ticks` cron ticks one after the other (each when the last is done) and counts each. */
export async function measureTicks(stack, adminToken, { ticks, gapMs }) {
  const metrics = metricsClient(stack, adminToken);
  const rows = [];
  for (let i = 0; i < ticks; i++) {
    await metrics.settled(1_000);
    await sleep(gapMs);
    await metrics.reset();
    const status = await stack.tick();
    if (status !== 200) throw new Error(`/__scheduled answered ${status}`);
    await until("the tick to finish", async () => (await metrics.read()).cron.done >= 1, 60_000, 50);
    const m = await metrics.settled(1_000);
    rows.push({ m, view: bridgeView(m, stack) });
  }
  return rows;
}

export function tickSummary(size, rows) {
  const mean = (f) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  const sorted = rows.map((r) => r.m.cron.ms[0]).sort((a, b) => a - b);
  return {
    size,
    ticks: rows.length,
    queries: mean((r) => r.m.d1.queries),
    rowsRead: mean((r) => r.m.d1.rowsRead),
    rowsWritten: mean((r) => r.m.d1.rowsWritten),
    rowsReadMax: Math.max(...rows.map((r) => r.m.d1.rowsRead)),
    d1Ms: mean((r) => r.m.d1.durationMs),
    subrequests: mean((r) => r.m.subrequests.total),
    twilioLookups: mean((r) => r.view.twilioLookups),
    doRequests: mean((r) => r.m.durableObjects.requests),
    msMedian: sorted[Math.floor((sorted.length - 1) / 2)],
    msMax: sorted.at(-1),
    topSql: topStatements(rows),
  };
}

/** The statements that read the most rows per tick (mean over the ticks). */
function topStatements(rows, count = 4) {
  const total = {};
  for (const r of rows) {
    for (const [sql, e] of Object.entries(r.m.d1.bySql ?? {})) {
      const t = (total[sql] ??= { sql, count: 0, rowsRead: 0, rowsWritten: 0 });
      t.count += e.count / rows.length;
      t.rowsRead += e.rowsRead / rows.length;
      t.rowsWritten += e.rowsWritten / rows.length;
    }
  }
  return Object.values(total)
    .sort((a, b) => b.rowsRead - a.rowsRead)
    .slice(0, count);
}
