import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { instrumentEnv, metricsRoute, noteSubrequest } from "../../bench/worker/instrumentation";

/** The bench counters (bench/worker/instrumentation.ts), which only the bench's own entry uses. */
const base = env as unknown as Env;
const url = "https://bridge.test/__metrics";
const admin = { authorization: `Bearer ${base.ADMIN_TOKEN}` };

interface Metrics {
  d1: { queries: number; calls: number; rowsRead: number; rowsWritten: number; byMethod: Record<string, number>; rowsFrom: string };
  subrequests: { total: number; byRoute: Record<string, number> };
  cxoneTokenRequests: number;
  durableObjects: { requests: number; calls: Record<string, number> };
  workerRequests: Record<string, number>;
}

describe("bench instrumentation", () => {
  it("is not in the product Worker: /__metrics is its 404 like any unknown path", async () => {
    const res = await exports.default.fetch(new Request(`${base.PUBLIC_BASE_URL}/__metrics`, { headers: admin }));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });

  it("counts D1 statements and rows, subrequests by route, token requests and Durable Object calls", async () => {
    const on = instrumentEnv(base);
    expect(on).not.toBe(base);
    expect(instrumentEnv(base)).toBe(on);
    expect(metricsRoute(new Request(url), on)!.status).toBe(401);
    expect(metricsRoute(new Request(url, { method: "DELETE", headers: admin }), on)!.status).toBe(200);

    const db = on.DB;
    await db.prepare("INSERT INTO opt_outs (business, phone, source, created_at) VALUES ('*', ?, 'test', 0) ON CONFLICT DO NOTHING").bind("+15550000077").run();
    await db.prepare("SELECT phone FROM opt_outs WHERE phone = ?").bind("+15550000077").first();
    await db.prepare("SELECT phone FROM opt_outs WHERE phone = ?").bind("+15550000077").raw();
    await db.batch([db.prepare("SELECT 1"), db.prepare("SELECT 2")]);
    noteSubrequest(on.CXONE_TOKEN_URL, "POST");
    noteSubrequest(`${on.TWILIO_API_BASE}/2010-04-01/Accounts/${on.TWILIO_ACCOUNT_SID}/Messages.json`, "POST");
    await on.SENDER.getByName("+15550001000").stats();
    expect(metricsRoute(new Request("https://bridge.test/healthz"), on)).toBeUndefined();

    const m = (await metricsRoute(new Request(url, { headers: admin }), on)!.json()) as Metrics;
    expect(m.d1.queries).toBe(5);
    expect(m.d1.calls).toBe(4);
    expect(m.d1.byMethod).toEqual({ run: 1, first: 1, raw: 1, batch: 2 });
    expect(m.d1.rowsFrom).toBe("wire");
    expect(m.d1.rowsRead).toBeGreaterThan(0);
    expect(m.d1.rowsWritten).toBeGreaterThan(0);
    expect(m.subrequests.total).toBe(2);
    expect(m.subrequests.byRoute).toEqual({ "POST cxone.test/auth/token": 1, "POST twilio.test/2010-04-01/Accounts/:id/Messages.json": 1 });
    expect(m.cxoneTokenRequests).toBe(1);
    expect(m.durableObjects).toMatchObject({ requests: 1, calls: { "SENDER.stats": 1 } });
    expect(m.workerRequests).toEqual({ "GET /healthz": 1 });
  });
});
