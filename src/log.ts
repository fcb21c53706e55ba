import { maskPhone } from "./domain/compliance/e164";

export type Level = "debug" | "info" | "warn" | "error";

/** Fields a log line may carry. Anything else is dropped, so a body or a token cannot slip in. */
export interface LogFields {
  conversationId?: string | null;
  cxoneMessageId?: string | null;
  messageSid?: string | null;
  batchId?: string | null;
  campaignId?: string | null;
  status?: string | null;
  attempt?: number;
  latencyMs?: number;
  delayMs?: number;
  segments?: number;
  encoding?: string;
  errorCode?: string | number | null;
  reason?: string;
  sender?: string;
  /** Phone numbers: always masked to the last four digits. */
  from?: string;
  to?: string;
  customer?: string;
  count?: number;
  kind?: string;
  route?: string;
  http?: number;
  urlsTried?: string[];
  detail?: string;
  /** Named counts (a reconciler pass): numbers only. */
  counts?: Record<string, number>;
}

const PHONE_KEYS = new Set(["from", "to", "customer", "sender"]);
const ALLOWED = new Set<keyof LogFields>([
  "conversationId", "cxoneMessageId", "messageSid", "batchId", "campaignId", "status", "attempt", "latencyMs",
  "delayMs", "segments", "encoding", "errorCode", "reason", "sender", "from", "to", "customer", "count", "kind",
  "route", "http", "urlsTried", "detail", "counts",
]);
// Free text (reason/detail) may quote an upstream error; scrub anything shaped like a number.
const PHONE_IN_TEXT = /\+?\d[\d\s().-]{6,}\d/g;
// Ids may embed a customer's E.164 number (a DFO conversation is "{channel}:{customer}"); only
// the "+" form is masked there, so digits inside UUIDs and SIDs stay as they are.
const ID_KEYS = new Set(["conversationId", "cxoneMessageId", "messageSid", "batchId", "campaignId"]);
const E164_IN_ID = /\+\d{6,15}/g;

function clean(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || !ALLOWED.has(key as keyof LogFields)) continue;
    if (PHONE_KEYS.has(key) && typeof value === "string" && value.startsWith("+")) out[key] = maskPhone(value);
    else if (ID_KEYS.has(key) && typeof value === "string") out[key] = value.replace(E164_IN_ID, (m) => maskPhone(m));
    else if (key === "counts") out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, n]) => typeof n === "number"));
    else if ((key === "reason" || key === "detail") && typeof value === "string") out[key] = value.replace(PHONE_IN_TEXT, (m) => maskPhone(m)).slice(0, 300);
    // A path may carry a customer's number (/admin/opt-outs/+1…, DFO's 1.0 post ids), often as %2B.
    else if (key === "route" && typeof value === "string") out[key] = decoded(value).replace(PHONE_IN_TEXT, (m) => maskPhone(m)).slice(0, 300);
    else out[key] = value;
  }
  return out;
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold = RANK.info;

/**
 * LOG_LEVEL (debug, info, warn or error; default info): lines below it are not written. Set from
 * the environment by every entry point of the isolate (the Worker's handlers, each Durable Object).
 */
export function setLogLevel(value: string | undefined): void {
  threshold = RANK[(value ?? "info") as Level] ?? RANK.info;
}

/** One JSON object per line: what `wrangler tail` shows an operator (contract §6). */
export function log(level: Level, event: string, fields: LogFields = {}): void {
  if (RANK[level] < threshold) return;
  const line = JSON.stringify({ level, event, ...clean(fields), ts: new Date().toISOString() });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
