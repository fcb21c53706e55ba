/**
 * Issue 12, goal 5: a storm grounds flights and 100,000 alerts must go out. One
 * `POST /v1/proactive` batch of `count` recipients to a stack of its own: how long until the 202,
 * how the drain keeps the sender's rate (sends per second at the Twilio emulator over a window,
 * ÷ the rate), what `GET /v1/proactive/batches/:id` costs while it drains, and that a restart of
 * the bridge mid-drain loses nothing: sending resumes, and no recipient is texted twice.
 */
import { json, percentile, sleep, table, until } from "./lib.mjs";

/** Numbers in a zone where it is day now (the default quiet hours would defer the rest). */
function awakePrefix() {
  const places = [["+81901", "Asia/Tokyo"], ["+1646555", "America/New_York"], ["+91987", "Asia/Kolkata"], ["+447700", "Europe/London"], ["+1808555", "Pacific/Honolulu"]];
  const hourIn = (timeZone) => Number(new Intl.DateTimeFormat("en-US", { timeZone, hour: "2-digit", hourCycle: "h23" }).format(new Date()));
  return places.find(([, zone]) => hourIn(zone) >= 9 && hourIn(zone) < 19)[0];
}

export async function benchBatch(stack, { count, rate, sender, apiToken, windowS }) {
  const prefix = awakePrefix();
  const width = 15 - prefix.length + 1;
  const to = (i) => `${prefix}${String(i).padStart(width, "0")}`;
  const messages = Array.from({ length: count }, (_, i) => ({ to: to(i), text: `Storm alert: flight ${1000 + (i % 900)} is cancelled. Reply REBOOK to be rebooked.`, idempotencyKey: `storm-${i}` }));
  const body = JSON.stringify({ campaignId: "storm", from: sender, messages });
  const auth = { authorization: `Bearer ${apiToken}` };
  const t0 = performance.now();
  const res = await fetch(`${stack.bridgeUrl}/v1/proactive`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body });
  const answerMs = performance.now() - t0;
  const answer = await res.json();
  if (res.status !== 202) throw new Error(`the batch was answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);

  const mine = async () => json(`${stack.twilioUrl}/_emu/messages?from=${encodeURIComponent(sender)}`);
  const statusRead = async () => {
    const s = performance.now();
    const status = await json(`${stack.bridgeUrl}/v1/proactive/batches/${answer.batchId}`, { headers: auth });
    return { ms: performance.now() - s, status };
  };
  // Sending starts once the launches reach the bucket; the window starts a few seconds in.
  await until("the batch's first sends", async () => (await mine()).length > 0, 120_000, 500);
  await sleep(3_000);
  const reads = [];
  const before = (await mine()).length;
  const windowStart = Date.now();
  while (Date.now() - windowStart < windowS * 1000) {
    reads.push(await statusRead());
    await sleep(1_000);
  }
  const inWindow = (await mine()).filter((m) => m.receivedAt >= windowStart && m.receivedAt < windowStart + windowS * 1000).length;

  // A restart mid-drain: the batch's object and the sender's queue resume from their storage.
  const beforeRestart = (await mine()).length;
  await stack.restartBridge();
  const resumed = await until("sends after the restart", async () => {
    const n = (await mine()).length;
    return n > beforeRestart + rate ? n : undefined;
  }, 120_000, 500);
  const sent = await mine();
  const duplicates = sent.length - new Set(sent.map((m) => m.to)).size;
  return {
    count,
    rate,
    bodyMb: Buffer.byteLength(body) / 2 ** 20,
    answerMs,
    accepted: answer.accepted,
    windowS,
    sendRate: inWindow / windowS,
    sentBeforeWindow: before,
    reads: reads.map((r) => r.ms),
    lastCounts: reads.at(-1)?.status.counts,
    resumedAfter: resumed - beforeRestart,
    duplicates,
  };
}

export function batchSection(b) {
  const ms = (v) => `${v.toFixed(0)} ms`;
  return [
    `One \`POST /v1/proactive\` batch of ${b.count.toLocaleString("en-US")} recipients (${b.bodyMb.toFixed(1)} MB of JSON) from a sender at ${b.rate} messages/s, on a stack of its own (production settings, quiet hours off for numbers awake now). The drain is measured over ${b.windowS} s a few seconds after the first send; \`GET /v1/proactive/batches/:id\` is read once a second meanwhile (a batch over 1,000 recipients is counted at most every 5 s; reads between get those counts). Then the bridge is restarted mid-drain.`,
    "",
    table(
      ["answer (202)", "accepted", "sends/s over the window", "÷ the sender's rate", "status read p50 / max", "sends after the restart", "recipients texted twice"],
      [[ms(b.answerMs), b.accepted.toLocaleString("en-US"), b.sendRate.toFixed(1), `${((b.sendRate / b.rate) * 100).toFixed(1)} %`, `${ms(percentile(b.reads, 50))} / ${ms(Math.max(...b.reads))}`, b.resumedAfter, b.duplicates]],
    ),
    "",
    `Counts at the end of the window: ${JSON.stringify(b.lastCounts)}.`,
  ];
}
