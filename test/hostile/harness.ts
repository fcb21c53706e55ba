import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { http, HttpResponse } from "msw";
import { afterEach, beforeEach, expect, vi } from "vitest";
import worker from "../../src/index";
import { TEST_BINDINGS as B } from "../support/bindings";
import { network, unhandled } from "../support/network";

/**
 * What a refused request must leave exactly as it was (contract §3 "nothing is stored or sent"):
 * the row count of every D1 table, the number of calls that left the Worker, and Object.prototype
 * (the Worker and its Durable Objects run in the test's isolate, so a pollution would show here).
 */
export interface Snapshot {
  rows: Record<string, number>;
  outbound: number;
  prototype: string;
}

let upstreamCalls = 0;

/**
 * Per test: counts every call to the Twilio and CXone origins, answering 503 so that nothing
 * could go on to succeed because of it (calls to any other origin already land in
 * support/network's list); and mutes the Worker's warn/info lines — one per refusal, thousands
 * per run — leaving console.error, where a server fault would show, alone.
 */
export function useHostileHarness(): void {
  beforeEach(() => {
    for (const level of ["warn", "log"] as const) vi.spyOn(console, level).mockImplementation(() => undefined);
    network.use(
      ...[B.TWILIO_API_BASE, B.CXONE_API_BASE].map((origin) =>
        http.all(`${origin}/*`, () => {
          upstreamCalls += 1;
          return HttpResponse.json({ error: "no upstream call was expected" }, { status: 503 });
        }),
      ),
    );
  });
  afterEach(() => vi.restoreAllMocks());
}

/**
 * Lets an origin answer through `handle` (an emulator) instead of the 503 above — for properties
 * where a request may rightly be taken and delivered — still counting every call. Use it inside a
 * test, after the harness's beforeEach: the handler added last is asked first.
 */
export function serveCounted(origin: string, handle: (request: Request) => Response | Promise<Response>) {
  return http.all(`${origin}/*`, ({ request }) => {
    upstreamCalls += 1;
    return handle(request as unknown as Request);
  });
}

let tables: Promise<string[]> | undefined;

// sqlite_sequence stays in: an insert later deleted again still leaves its trace there.
const listTables = () =>
  env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'd1_migrations' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name")
    .all<{ name: string }>()
    .then(({ results }) => results.map((t) => t.name));

export async function snapshot(): Promise<Snapshot> {
  const names = await (tables ??= listTables());
  const counts = names.map((n) => `(SELECT COUNT(*) FROM "${n}") AS "${n}"`).join(", ");
  const rows = (await env.DB.prepare(`SELECT ${counts}`).first<Record<string, number>>())!;
  const prototype = [Object.prototype, Array.prototype].map((p) => Object.getOwnPropertyNames(p).sort().join()).join("|");
  return { rows, outbound: upstreamCalls + unhandled.length, prototype };
}

export interface Call {
  method: string;
  /** Path, query and fragment, appended to PUBLIC_BASE_URL as they are. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
}

function request({ method, path, headers, body }: Call): Request {
  const withBody = method.toUpperCase() !== "GET" && method.toUpperCase() !== "HEAD";
  return new Request(`${B.PUBLIC_BASE_URL}${path}`, { method, headers, body: withBody ? body : undefined });
}

/**
 * Calls the Worker's fetch handler as the runtime does, then waits for its waitUntil work, so a
 * late write cannot slip past the after-snapshot. Not `exports.default.fetch`: in
 * @cloudflare/vitest-pool-workers 0.15.1 each call through it wraps the entrypoint class's
 * prototype in one more Proxy (createProxyPrototypeClass), so the n-th call of a test file costs
 * O(n) — about 70 ms by the 500th. `sendThroughEntrypoint` checks both paths answer alike.
 */
export async function send(call: Call): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request(call), env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export const sendThroughEntrypoint = (call: Call): Promise<Response> => exports.default.fetch(request(call));

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Reads the JSON answer once; a 5xx fails first, showing the body that came with it. */
async function answer(res: Response, method: string): Promise<unknown> {
  const text = method.toUpperCase() === "HEAD" ? "" : await res.text();
  expect(res.status, `never a 5xx for client input; body: ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return text === "" ? undefined : JSON.parse(text);
}

export interface Refusal {
  error: string;
  message: string;
}

/**
 * A refusal per contract §3: a 4xx (one of `statuses` when given) with a JSON `{error, message}` body,
 * and nothing stored, sent or polluted.
 */
export async function expectRefused(res: Response, before: Snapshot, opts: { statuses?: readonly number[]; method?: string } = {}): Promise<Refusal | undefined> {
  const method = opts.method ?? "POST";
  const body = await answer(res, method);
  expect(res.status).toBeGreaterThanOrEqual(400);
  if (opts.statuses) expect(opts.statuses).toContain(res.status);
  if (method.toUpperCase() !== "HEAD") expect(body).toEqual({ error: expect.any(String), message: expect.any(String) });
  expect(await snapshot()).toEqual(before);
  return body as Refusal | undefined;
}

/**
 * For routes where some generated inputs are legitimately valid: any status in `statuses`; a 2xx
 * is JSON, sends nothing and changes no table but `mayWrite`; anything else is a refusal as above.
 */
export async function expectAnswered(
  res: Response,
  before: Snapshot,
  opts: { statuses: readonly number[]; mayWrite: readonly string[]; method?: string },
): Promise<unknown> {
  if (res.status < 200 || res.status >= 300) return expectRefused(res, before, opts);
  expect(opts.statuses).toContain(res.status);
  const body = await answer(res, opts.method ?? "POST");
  const after = await snapshot();
  expect(Object.keys(rowDelta(before, after)).filter((t) => !opts.mayWrite.includes(t))).toEqual([]);
  expect({ outbound: after.outbound, prototype: after.prototype }).toEqual({ outbound: before.outbound, prototype: before.prototype });
  return body;
}

/** The row counts that changed between two snapshots, as table → difference. */
export function rowDelta(before: Snapshot, after: Snapshot): Record<string, number> {
  return Object.fromEntries(Object.keys(after.rows).flatMap((t) => (after.rows[t] !== before.rows[t] ? [[t, after.rows[t]! - before.rows[t]!]] : [])));
}
