/**
 * Issue 12, goal 7: the paper plan for a large contact center's day — 10 million messages, peaks
 * of 1,000/s — computed from section 3's counted cost per message, beside the same figures for
 * the design as it was before issue 12's D1 work (the run of 2026-11-30 18:57 UTC on cee61ec, the
 * same bench). Prices and limits are Cloudflare's published ones (Workers Paid), as of 2026-11.
 */
import { table } from "./lib.mjs";

/** Counted by this bench on cee61ec (bench/results.md of that commit, section 3). */
export const BEFORE = {
  inbound: { d1Queries: 4, rowsRead: 10, rowsWritten: 13, doRequests: 2, workerRequests: 1 },
  outbound: { d1Queries: 24.9, rowsRead: 91.9, rowsWritten: 37.9, doRequests: 2.2, workerRequests: 4 },
};

const DAY = 10_000_000;
const PEAK = 1_000;
/** Half the messages are customers' texts, half agents' replies with their receipts (assumed). */
const INBOUND_SHARE = 0.5;
const MONTH_DAYS = 30;
/** MESSAGING_SERVICE_SHARDS' default: a service's queue over this many sender objects (none before). */
const SERVICE_SHARDS = 4;
/** D1: one database is single-threaded; at ~1 ms a statement it runs about 1,000 a second (D1 FAQ). */
const D1_STATEMENTS_PER_S = 1_000;
const D1_MAX_GB = 10;
/** Storage per message in D1, indexes included: bench/results-retention.md (the design before; an upper bound after). */
const BYTES_PER_MESSAGE = 1_193;
const PRICE = {
  workerRequests: { included: 10e6, perMillion: 0.3 },
  doRequests: { included: 1e6, perMillion: 0.15 },
  d1RowsRead: { included: 25e9, perMillion: 0.001 },
  d1RowsWritten: { included: 50e6, perMillion: 1.0 },
  d1StorageGb: { included: 5, perGbMonth: 0.75 },
};
const billed = ({ included, perMillion }, amount) => (Math.max(0, amount - included) / 1e6) * perMillion;

function figures(inbound, outbound, retentionDays, shards) {
  const mix = (key) => INBOUND_SHARE * inbound[key] + (1 - INBOUND_SHARE) * outbound[key];
  const month = DAY * MONTH_DAYS;
  const storageGb = (DAY * retentionDays * BYTES_PER_MESSAGE) / 1e9;
  const cost = {
    workers: billed(PRICE.workerRequests, month * mix("workerRequests")),
    durableObjects: billed(PRICE.doRequests, month * mix("doRequests")),
    d1Read: billed(PRICE.d1RowsRead, month * mix("rowsRead")),
    d1Written: billed(PRICE.d1RowsWritten, month * mix("rowsWritten")),
    d1Storage: Math.max(0, storageGb - PRICE.d1StorageGb.included) * PRICE.d1StorageGb.perGbMonth,
  };
  return {
    statementsPeak: PEAK * mix("d1Queries"),
    // Not counted by the bench before issue 12's write counting (bench/cost.mjs d1Writes).
    writesPeak: inbound.d1Writes === undefined ? undefined : PEAK * mix("d1Writes"),
    rowsWrittenPeak: PEAK * mix("rowsWritten"),
    rowsReadPeak: PEAK * mix("rowsRead"),
    databasesForRate: (PEAK * mix("d1Queries")) / D1_STATEMENTS_PER_S,
    storageGb,
    databasesForStorage: storageGb / D1_MAX_GB,
    senderRequestsPeak: (PEAK * (1 - INBOUND_SHARE) * outbound.doRequests) / shards,
    cost,
    total: Object.values(cost).reduce((a, b) => a + b, 0),
  };
}

export function planSection(now, { retentionDays = 30 } = {}) {
  const before = figures(BEFORE.inbound, BEFORE.outbound, retentionDays, 1);
  const after = figures(now.inbound, now.outbound, retentionDays, SERVICE_SHARDS);
  const n = (v, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const usd = (v) => `$${n(v)}`;
  const row = (name, f) => [name, f(before), f(after)];
  return [
    `${n(DAY)} messages a day (${n(INBOUND_SHARE * 100)} % customers' texts, the rest agents' replies each with its 3 status callbacks and 2 receipts), peak ${n(PEAK)} messages/s, \`RETENTION_DAYS\`=${retentionDays}; per message as counted in section 3 (this run) beside the same bench on cee61ec, before issue 12's D1 work. Limits and prices: Cloudflare's published figures for Workers Paid (D1 ≈ ${n(D1_STATEMENTS_PER_S)} statements/s per database at ~1 ms each, ${D1_MAX_GB} GB per database; $0.30 per million Worker requests over 10 M, $0.15 per million Durable Object requests over 1 M, D1 $1.00 per million rows written over 50 M, $0.001 per million rows read over 25 bn, $0.75 per GB-month over 5 GB).`,
    "",
    table(
      ["at peak / per month", "before (cee61ec)", "now"],
      [
        row("D1 statements per second at peak", (f) => n(f.statementsPeak)),
        row("… in databases' worth of D1 (one ≈ 1,000/s)", (f) => `${n(f.databasesForRate, 1)}×`),
        row("… of them writes (the primary's; reads may go to read replicas)", (f) => (f.writesPeak === undefined ? "not counted" : n(f.writesPeak))),
        row("D1 rows written / read per second at peak", (f) => `${n(f.rowsWrittenPeak)} / ${n(f.rowsReadPeak)}`),
        row(`D1 storage after ${retentionDays} days (${n(BYTES_PER_MESSAGE)} B per message) · in 10 GB databases`, (f) => `${n(f.storageGb)} GB · ${n(f.databasesForStorage, 1)}×`),
        row(`requests per second to one sender object at peak (all replies through one Messaging Service: one object before, ${SERVICE_SHARDS} now)`, (f) => n(f.senderRequestsPeak)),
        row("requests per second to one thread object", () => "a customer's own pace (≤ a few)"),
        row("Workers requests / month", (f) => usd(f.cost.workers)),
        row("Durable Object requests / month", (f) => usd(f.cost.durableObjects)),
        row("D1 rows written / month", (f) => usd(f.cost.d1Written)),
        row("D1 rows read / month", (f) => usd(f.cost.d1Read)),
        row("D1 storage / month", (f) => usd(f.cost.d1Storage)),
        row("**total / month** (plus the $5 plan; Durable Object duration and storage, Worker CPU not estimated)", (f) => `**${usd(f.total)}**`),
      ],
    ),
  ];
}
