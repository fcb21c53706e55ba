/**
 * Load generation for `npm run bench` (autocannon, in process): signed Twilio inbound webhooks,
 * each with its own MessageSid and a valid X-Twilio-Signature, and CXone agent pushes, each with
 * its own message id. Latencies are taken per response so that p95 is exact (autocannon's own
 * summary has p90 and p97.5, not p95).
 */
import { randomBytes } from "node:crypto";
import autocannon from "autocannon";
import twilio from "twilio";
import { percentile } from "./lib.mjs";

const runId = randomBytes(4).toString("hex");
let seq = 0;
/** "SM" + 32 hex digits, unique across the whole benchmark run. */
export const nextSid = () => `SM${runId}${(++seq).toString(16).padStart(24, "0")}`;

/** The first few non-2xx answers (status and body), to say in the report what went wrong. */
const refusals = [];
function keepRefusals(status, body) {
  if ((status < 200 || status >= 300) && refusals.length < 5) refusals.push(`${status} ${String(body).slice(0, 200)}`);
}

/**
 * One autocannon request template whose setupRequest builds a fresh signed inbound webhook each
 * time: the customer cycles through `customers` numbers (`+1628<pool>nnnnnn`), the signature is
 * computed by Twilio's own library for `publicUrl` (what the target believes it is reached at).
 */
export function inboundRequests({ publicUrl, authToken, accountSid, to, customers, pool }) {
  let n = 0;
  return [
    {
      method: "POST",
      path: "/twilio/inbound",
      onResponse: keepRefusals,
      setupRequest(req) {
        const i = n++;
        const fields = {
          ToCountry: "US",
          SmsMessageSid: "",
          NumMedia: "0",
          SmsStatus: "received",
          Body: `bench inbound ${i}`,
          To: to,
          NumSegments: "1",
          MessageSid: nextSid(),
          AccountSid: accountSid,
          From: `+1628${pool}${String(i % customers).padStart(6, "0")}`,
          ApiVersion: "2010-04-01",
        };
        fields.SmsMessageSid = fields.MessageSid;
        return {
          ...req,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, `${publicUrl}/twilio/inbound`, fields),
          },
          body: new URLSearchParams(fields).toString(),
        };
      },
    },
  ];
}

/** CXone pushes of agent replies (bearer CXONE_WEBHOOK_SECRET), `conversations` threads, one sender. */
export function pushRequests({ secret, from, conversations }) {
  let n = 0;
  return [
    {
      method: "POST",
      path: "/cxone/outbound",
      onResponse: keepRefusals,
      setupRequest(req) {
        const i = n++;
        const c = i % conversations;
        return {
          ...req,
          headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
          body: JSON.stringify({
            id: `push-${runId}-${i}`,
            conversationId: `push-conv-${runId}-${c}`,
            to: `+1629${String(c).padStart(7, "0")}`,
            from,
            body: `bench push ${i}`,
            direction: "OUTBOUND",
            channel: "SMS",
            createdTime: new Date().toISOString(),
          }),
        };
      },
    },
  ];
}

/**
 * Runs autocannon against `url` for `duration` seconds (or `amount` requests) with `connections` sockets and returns
 * throughput and exact latency percentiles of the 2xx answers.
 */
export async function cannon({ url, requests, duration, amount, connections = 10, title }) {
  const latencies = [];
  const statuses = {};
  const started = Date.now();
  // `amount` (a number of requests) wins over `duration` when given.
  const instance = autocannon({ url, requests, connections, pipelining: 1, timeout: 30, ...(amount ? { amount } : { duration }) });
  instance.on("response", (_client, status, _bytes, ms) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  refusals.length = 0;
  const result = await instance;
  const seconds = (Date.now() - started) / 1000;
  const ok = latencies.length;
  const row = {
    title,
    seconds,
    connections,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    rps: ok / seconds,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : NaN,
    mean: latencies.reduce((s, x) => s + x, 0) / Math.max(1, ok),
    refusals: [...refusals],
  };
  // Kept off the JSON of the results: `combine` merges rounds from them.
  Object.defineProperty(row, "latencies", { value: latencies });
  if (title) {
    console.log(
      `  ${title}: ${ok} ok in ${seconds.toFixed(1)} s = ${row.rps.toFixed(1)} req/s, p50 ${row.p50.toFixed(1)} p95 ${row.p95.toFixed(1)} p99 ${row.p99.toFixed(1)} ms` +
        (row.non2xx || row.errors ? `, non-2xx ${row.non2xx} errors ${row.errors} ${JSON.stringify(statuses)} ${row.refusals.join(" | ")}` : ""),
    );
  }
  return row;
}

/** Several runs against one target as one: summed counts and time, percentiles over every answer. */
export function combine(rows, title) {
  const latencies = rows.flatMap((r) => r.latencies);
  const sum = (key) => rows.reduce((s, r) => s + r[key], 0);
  const seconds = sum("seconds");
  const statuses = {};
  for (const r of rows) for (const [status, n] of Object.entries(r.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const row = {
    title,
    seconds,
    connections: rows[0].connections,
    ok: latencies.length,
    non2xx: sum("non2xx"),
    errors: sum("errors"),
    timeouts: sum("timeouts"),
    statuses,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: Math.max(...rows.map((r) => r.max)),
    mean: latencies.reduce((s, x) => s + x, 0) / Math.max(1, latencies.length),
    refusals: rows.flatMap((r) => r.refusals).slice(0, 5),
    rounds: rows.map((r) => ({ ok: r.ok, rps: r.rps, p99: r.p99 })),
  };
  Object.defineProperty(row, "latencies", { value: latencies });
  return row;
}
