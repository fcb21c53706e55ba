import { safeEqual } from "../../src/crypto";

/**
 * The bench's cost counters (`npm run bench`, stack B), used only by the bench's own entry
 * (bench/worker/index.ts), which wraps the product Worker: nothing here ships in `src/`. What a
 * message costs is COUNTED at the few places every unit of work passes through:
 *
 * - D1: the env's DB binding is wrapped (`instrumentD1`): statements counted per D1 API method
 *   (prepare → bind → all/run/raw/first, batch, exec), rows read/written summed from D1's `meta`.
 * - Outbound HTTP (Twilio, CXone, the CXone token): the entry wraps the isolate's fetch
 *   (`noteSubrequest`).
 * - Durable Objects: the entry and every object's constructor get an env whose namespaces hand
 *   out counting stubs (`instrumentEnv`); the entry's object classes call `noteAlarm`.
 *
 * The counters live in module scope, i.e. per isolate. Under `wrangler dev` the Worker and its
 * Durable Objects share one isolate, so `GET /__metrics` sees the objects' work too (alarms
 * included); the benchmark checks that against the emulators' own counts.
 */

interface Metrics {
  since: string;
  d1: {
    /** Statements run (a batch of three is three). */
    queries: number;
    /** Calls to the binding, i.e. round trips to D1 (a batch is one). */
    calls: number;
    rowsRead: number;
    rowsWritten: number;
    /** Server-side SQL time reported by D1 (meta.duration, ms). */
    durationMs: number;
    byMethod: Record<string, number>;
    /** "wire": rows from every D1 answer; "results": only from all/run/batch (raw/first drop meta), see rowsUnseen. */
    rowsFrom: "wire" | "results";
    rowsUnseen: number;
    /** Per SQL text (first 160 characters), when rows come from the wire: which statements read what. */
    bySql: Record<string, { count: number; rowsRead: number; rowsWritten: number }>;
  };
  subrequests: { total: number; byHost: Record<string, number>; byRoute: Record<string, number> };
  cxoneTokenRequests: number;
  durableObjects: { requests: number; calls: Record<string, number>; alarms: Record<string, number> };
  cron: { runs: number; done: number; ms: number[] };
  /** Requests the Worker answered (webhooks, pushes, callbacks), by method and path; /__metrics itself excluded. */
  workerRequests: Record<string, number>;
}

let tokenUrl: string | undefined;
let metrics = fresh();

function fresh(): Metrics {
  return {
    since: new Date().toISOString(),
    d1: { queries: 0, calls: 0, rowsRead: 0, rowsWritten: 0, durationMs: 0, byMethod: {}, rowsFrom: "results", rowsUnseen: 0, bySql: {} },
    subrequests: { total: 0, byHost: {}, byRoute: {} },
    cxoneTokenRequests: 0,
    durableObjects: { requests: 0, calls: {}, alarms: {} },
    cron: { runs: 0, done: 0, ms: [] },
    workerRequests: {},
  };
}

const bump = (map: Record<string, number>, key: string, by = 1) => void (map[key] = (map[key] ?? 0) + by);

const NAMESPACES = ["CONVERSATION", "SENDER", "CXONE_TOKEN", "POLLER", "BATCH"] as const;
const wrappedEnvs = new WeakMap<object, Env>();

/** A copy of the env whose D1 binding and Durable Object namespaces count their use (one per env object). */
export function instrumentEnv(env: Env): Env {
  let wrapped = wrappedEnvs.get(env);
  if (!wrapped) {
    tokenUrl = env.CXONE_TOKEN_URL;
    wrapped = { ...env, DB: instrumentD1(env.DB) };
    for (const name of NAMESPACES) if (env[name]) (wrapped as unknown as Record<string, unknown>)[name] = countingNamespace(env[name], name);
    wrappedEnvs.set(env, wrapped);
  }
  return wrapped;
}

function countingNamespace<T extends object>(ns: T, name: string): T {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop !== "get" && prop !== "getByName") return typeof value === "function" ? value.bind(target) : value;
      return (...args: unknown[]) => countingStub(Reflect.apply(value as (...a: unknown[]) => object, target, args), name);
    },
  });
}

/** A stub whose method calls (RPC, fetch) are counted as Durable Object requests. */
function countingStub<T extends object>(stub: T, name: string): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      // id/name are plain properties; "then" must stay undefined so a stub is not a thenable.
      if (typeof prop !== "string" || prop === "then" || prop === "id" || prop === "name" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        metrics.durableObjects.requests += 1;
        bump(metrics.durableObjects.calls, `${name}.${prop}`);
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/** A Durable Object's alarm handler started (an alarm is a request to the object too). */
export function noteAlarm(className: string): void {
  metrics.durableObjects.requests += 1;
  bump(metrics.durableObjects.alarms, className);
}

/** One outbound HTTP call, by host and by route (ids in the path folded to ":id"). */
export function noteSubrequest(url: string, method = "GET"): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  metrics.subrequests.total += 1;
  bump(metrics.subrequests.byHost, parsed.host);
  const path = parsed.pathname
    .split("/")
    .map((seg) => seg.replace(/^(?=[^/]*\d)[\w.-]{12,}?(\.json)?$/, ":id$1"))
    .join("/");
  bump(metrics.subrequests.byRoute, `${method.toUpperCase()} ${parsed.host}${path}`);
  if (method.toUpperCase() === "POST" && tokenUrl !== undefined && url === tokenUrl) metrics.cxoneTokenRequests += 1;
}

/** Times a cron run (the benchmark waits for `done` and reads the duration). */
export function measureCron<T>(run: Promise<T>): Promise<T> {
  metrics.cron.runs += 1;
  const started = Date.now();
  return run.finally(() => {
    metrics.cron.done += 1;
    metrics.cron.ms.push(Date.now() - started);
  });
}

interface D1Meta {
  rows_read?: number;
  rows_written?: number;
  duration?: number;
}

function addMeta(meta: D1Meta | undefined): void {
  if (!meta) return;
  metrics.d1.rowsRead += meta.rows_read ?? 0;
  metrics.d1.rowsWritten += meta.rows_written ?? 0;
  metrics.d1.durationMs += meta.duration ?? 0;
}

const tappedSessions = new WeakSet<object>();

/**
 * D1's `raw()` and `first()` (drizzle selects and RETURNING go through `raw()`) throw the
 * answer's meta away, so rows are read where the binding receives D1's answers: the workerd
 * D1 binding (cloudflare-internal:d1-api) sends every statement through its session's fetcher,
 * whose JSON answer carries each statement's meta. If that internal shape is ever not found,
 * rows are summed from what all/run/batch return and `rowsUnseen` counts the statements missed.
 */
function tapAnswers(d1: D1Database): boolean {
  const session = (d1 as unknown as { alwaysPrimarySession?: { fetcher?: Fetcher } }).alwaysPrimarySession;
  const fetcher = session?.fetcher;
  if (!session || !fetcher || typeof fetcher.fetch !== "function") return false;
  if (tappedSessions.has(session)) return true;
  session.fetcher = {
    async fetch(input: RequestInfo | URL, init?: RequestInit) {
      const res = await fetcher.fetch(input as RequestInfo, init);
      const text = await res.text();
      try {
        const answer = JSON.parse(text) as { meta?: D1Meta } | { meta?: D1Meta }[];
        const sent = typeof init?.body === "string" ? (JSON.parse(init.body) as { sql?: string } | { sql?: string }[]) : [];
        const sqls = (Array.isArray(sent) ? sent : [sent]).map((q) => q.sql ?? "?");
        (Array.isArray(answer) ? answer : [answer]).forEach((one, i) => {
          addMeta(one.meta);
          const entry = (metrics.d1.bySql[(sqls[i] ?? "?").slice(0, 160)] ??= { count: 0, rowsRead: 0, rowsWritten: 0 });
          entry.count += 1;
          entry.rowsRead += one.meta?.rows_read ?? 0;
          entry.rowsWritten += one.meta?.rows_written ?? 0;
        });
      } catch {
        // Not JSON: the binding reports the error itself.
      }
      return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
    },
  } as Fetcher;
  tappedSessions.add(session);
  return true;
}

const countingDbs = new WeakMap<D1Database, D1Database>();

/** The D1 binding as drizzle sees it in the bench: a counting wrapper. */
export function instrumentD1(d1: D1Database): D1Database {
  let wrapped = countingDbs.get(d1);
  if (wrapped) return wrapped;
  const wire = tapAnswers(d1);
  metrics.d1.rowsFrom = wire ? "wire" : "results";
  const note = (method: string, count: number, results?: { meta?: D1Meta }[]) => {
    metrics.d1.queries += count;
    metrics.d1.calls += 1;
    bump(metrics.d1.byMethod, method, count);
    if (wire) return;
    if (results) for (const r of results) addMeta(r.meta);
    else metrics.d1.rowsUnseen += count;
  };
  const statement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => statement(Reflect.apply(value, target, args) as D1PreparedStatement);
        if (prop === "all" || prop === "run") {
          return async (...args: unknown[]) => {
            const result = (await Reflect.apply(value, target, args)) as { meta?: D1Meta };
            note(prop, 1, [result]);
            return result;
          };
        }
        if (prop === "raw" || prop === "first") {
          return (...args: unknown[]) => {
            note(prop, 1);
            return Reflect.apply(value, target, args);
          };
        }
        return value.bind(target);
      },
    });
  wrapped = new Proxy(d1, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "prepare") return (query: string) => statement(target.prepare(query));
      if (prop === "batch") {
        // The statements are proxies of real ones: the binding reads their fields through them.
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements);
          note("batch", statements.length, results);
          return results;
        };
      }
      if (prop === "exec") {
        return (query: string) => {
          note("exec", 1);
          return target.exec(query);
        };
      }
      return value.bind(target);
    },
  });
  countingDbs.set(d1, wrapped);
  return wrapped;
}

/**
 * `GET /__metrics` (the counters) and `DELETE /__metrics` (reset), behind the ADMIN_TOKEN bearer.
 * Any other request is counted and handed back (undefined: the product Worker answers it).
 */
export function metricsRoute(request: Request, env: Env): Response | undefined {
  const url = new URL(request.url);
  if (url.pathname !== "/__metrics") {
    bump(metrics.workerRequests, `${request.method} ${url.pathname}`);
    return undefined;
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1]?.trim() ?? "";
  if (!env.ADMIN_TOKEN || !safeEqual(bearer, env.ADMIN_TOKEN)) {
    return Response.json({ error: "unauthorized", message: "GET /__metrics needs Authorization: Bearer <ADMIN_TOKEN>" }, { status: 401 });
  }
  if (request.method === "DELETE") {
    const rowsFrom = metrics.d1.rowsFrom;
    metrics = fresh();
    metrics.d1.rowsFrom = rowsFrom;
    return Response.json({ reset: true });
  }
  if (request.method === "GET") return Response.json(metrics);
  return Response.json({ error: "method_not_allowed", message: "GET or DELETE" }, { status: 405 });
}
