/**
 * Cost of one message lifecycle, counted by the bench's entry (bench/worker/index.ts and
 * instrumentation.ts beside it) and cross-checked against what the emulators saw:
 * - inbound, a new customer (thread and CXone conversation created),
 * - inbound, a follow-up in an existing thread,
 * - outbound: an agent reply pushed by CXone → sent through Twilio → sending/sent/delivered
 *   callbacks → SENT and DELIVERED receipts back to CXone.
 * Each kind runs `count` times after a warm-up; the counters over the whole batch (until the
 * bridge is quiet again: alarms, D1 mirror writes and receipts included) are divided by `count`.
 */
import twilio from "twilio";
import { json, post, sleep, until } from "./lib.mjs";
import { nextSid } from "./load.mjs";
import { bridgeView, diffCounts, emulatorCounts, metricsClient } from "./metrics.mjs";

export async function benchCost(stack, creds, { count }) {
  const metrics = metricsClient(stack, creds.ADMIN_TOKEN);
  const business = creds.TWILIO_FROM_NUMBER;
  const customer = (i) => `+1627${String(i).padStart(7, "0")}`;
  let appendsSeen = 0;
  const appends = async () => (await json(`${stack.cxoneUrl}/_emu/stats`)).calls["POST /api/v2/conversations/:id/messages"] ?? 0;

  async function inbound(from, body) {
    const url = `${stack.bridgeUrl}/twilio/inbound`;
    const fields = { MessageSid: nextSid(), AccountSid: creds.TWILIO_ACCOUNT_SID, From: from, To: business, Body: body, NumMedia: "0", NumSegments: "1" };
    const send = () =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(creds.TWILIO_AUTH_TOKEN, url, fields) },
        body: new URLSearchParams(fields).toString(),
      });
    let res = await send();
    // The same MessageSid again is a no-op for the bridge: retry what wrangler dev's proxy dropped.
    for (let attempt = 1; res.status === 503 && attempt < 5; attempt++) {
      await res.text();
      await sleep(200 * attempt);
      res = await send();
    }
    if (res.status !== 200) throw new Error(`inbound answered ${res.status}: ${await res.text()}`);
  }
  async function inboundBatch(customers, body) {
    for (const c of customers) await inbound(c, body);
    appendsSeen += customers.length;
    await until("inbound texts in CXone", async () => (await appends()) >= appendsSeen, 60_000, 100);
  }
  const conversationOf = async (phone) => (await json(`${stack.cxoneUrl}/_emu/conversations`)).find((c) => c.customer === phone)?.id;
  async function replyBatch(customers) {
    const ids = [];
    for (const c of customers) {
      const conversationId = await conversationOf(c);
      ids.push(await pushReply(stack, { conversationId, body: "Thanks, on its way." }));
    }
    await until(
      "DELIVERED receipts",
      async () => {
        const reports = await json(`${stack.cxoneUrl}/_emu/reports`);
        return ids.every((id) => (reports[id] ?? []).some((r) => r.body.status === "DELIVERED"));
      },
      60_000,
      200,
    );
  }

  async function measure(kind, run) {
    await metrics.settled();
    await metrics.reset();
    const before = await emulatorCounts(stack);
    await run();
    const m = await metrics.settled();
    const seen = diffCounts(await emulatorCounts(stack), before);
    const row = { kind, count, m, seen, bridge: bridgeView(m, stack) };
    console.log(`  ${kind}: ${JSON.stringify(perMessage(row))}`);
    return row;
  }

  // Warm-up: the isolate, the token, the object classes — none of it counted below.
  await inboundBatch([customer(0)], "warm-up");
  await replyBatch([customer(0)]);

  const customers = Array.from({ length: count }, (_, i) => customer(i + 1));
  const rows = [];
  rows.push(await measure("inbound, new customer (thread + CXone conversation created)", () => inboundBatch(customers, "Hi, where is my order?")));
  rows.push(await measure("inbound, existing thread", () => inboundBatch(customers, "Any news?")));
  rows.push(await measure("outbound: push → Twilio → 3 callbacks → SENT + DELIVERED receipts", () => replyBatch(customers)));
  return rows;
}

/**
 * An agent reply in the CXone emulator, pushed to the bridge; pushed again with the same id until
 * the bridge answers 200, as CXone does (wrangler dev's proxy can drop one with a 503 under load).
 */
export async function pushReply(stack, reply) {
  let answer = await post(`${stack.cxoneUrl}/_emu/agent-reply`, { ...reply, push: true });
  for (let attempt = 1; answer.pushed !== 200 && attempt < 5; attempt++) {
    await sleep(200 * attempt);
    answer = await post(`${stack.cxoneUrl}/_emu/agent-reply`, { ...reply, id: answer.id, push: true });
  }
  if (answer.pushed !== 200) throw new Error(`the push of ${answer.id} was answered ${answer.pushed}`);
  return answer.id;
}

/** Per-message figures of a cost row. */
export function perMessage({ m, count, seen, bridge }) {
  const per = (x) => x / count;
  return {
    workerRequests: per(Object.values(m.workerRequests).reduce((s, n) => s + n, 0)),
    d1Queries: per(m.d1.queries),
    // Write statements (INSERT, UPDATE, DELETE, as D1 received them): the goal counts these.
    d1Writes: per(Object.entries(m.d1.bySql).reduce((n, [sql, e]) => (/^\s*(insert|update|delete|replace)\b/i.test(sql) ? n + e.count : n), 0)),
    d1Calls: per(m.d1.calls),
    rowsRead: per(m.d1.rowsRead),
    rowsWritten: per(m.d1.rowsWritten),
    subrequests: per(m.subrequests.total),
    cxone: per(bridge.cxone),
    twilio: per(bridge.twilio),
    doRequests: per(m.durableObjects.requests),
    doAlarms: per(Object.values(m.durableObjects.alarms).reduce((s, n) => s + n, 0)),
    tokenRequests: per(m.cxoneTokenRequests),
    seenCxone: per(seen.cxoneCalls + seen.cxoneTokens),
    seenTwilioSends: per(seen.twilioSends),
  };
}
