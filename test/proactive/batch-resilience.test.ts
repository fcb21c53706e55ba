import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { requireConfig } from "../../src/config";
import { reconcileDeps } from "../../src/deps";
import { reconcile } from "../../src/domain/reconcile";
import { TEST_BINDINGS as B } from "../support/bindings";
import { step } from "../support/clock";
import { useEmulators } from "../support/emulators";
import { d1Count } from "../support/inbound";

/**
 * Issue 10, item 8: a proactive batch never stops for good — a failure inside its object's alarm
 * re-arms it, a recipient is only marked failed once its dead letter is filed, and the Cron wakes
 * a batch whose object is not working on it.
 */
const emu = useEmulators();
const MINUTE = 60_000;
let n = 0;
/** Tokyo numbers: awake (outside quiet hours) whatever the hour in UTC… unless it is night there. */
const recipient = () => `+8190${String(30_000_000 + ++n)}`;
const key = () => `key-${crypto.randomUUID()}`;

afterEach(async () => {
  await env.DB.prepare("DROP TRIGGER IF EXISTS no_proactive_letters").run();
});

async function batch(count: number) {
  const res = await exports.default.fetch(
    new Request(`${B.PUBLIC_BASE_URL}/v1/proactive`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${B.API_TOKEN}` },
      body: JSON.stringify({ campaignId: "resilience", messages: Array.from({ length: count }, () => ({ to: recipient(), text: "Your gate changed", idempotencyKey: key() })) }),
    }),
  );
  expect(res.status).toBe(202);
  const { batchId } = (await res.json()) as { batchId: string };
  return { batchId, stub: env.BATCH.getByName(batchId) };
}
const alarmOf = (stub: ReturnType<typeof env.BATCH.getByName>) => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());

describe("a proactive batch that meets trouble", () => {
  it("keeps a recipient whose dead letter D1 would not take, and files it once D1 takes it", async () => {
    // CXone refuses the launch outright (not retryable), and D1 refuses the dead letter.
    emu.cxone.faults.add({ method: "POST", path: "^/api/v2/conversations$", kind: "status", status: 400 });
    await env.DB.prepare("CREATE TRIGGER no_proactive_letters BEFORE INSERT ON dead_letters WHEN NEW.ref LIKE 'proactive:%' BEGIN SELECT RAISE(ABORT, 'injected'); END").run();
    const { stub } = await batch(1);
    await stub.drain().catch(() => undefined);
    // Not "failed" with nobody told: still pending, and the object will wake again.
    expect(await stub.stats()).toMatchObject({ pending: 1, failed: 0 });
    expect(await alarmOf(stub)).not.toBeNull();

    await env.DB.prepare("DROP TRIGGER no_proactive_letters").run();
    for (let i = 0; i < 30 && (await stub.stats()).failed === 0; i++) await step(stub);
    expect(await stub.stats()).toMatchObject({ pending: 0, failed: 1 });
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE ref LIKE 'proactive:%' AND state = 'open'")).toBeGreaterThanOrEqual(1);
  });

  it("is woken by the Cron when its object has no alarm while recipients are pending", async () => {
    // CXone is down for the first pass: all three wait for a retry.
    emu.cxone.faults.add({ method: "POST", path: "^/api/v2/conversations$", kind: "status", status: 503 });
    const { batchId, stub } = await batch(3);
    await stub.drain();
    expect(await stub.stats()).toMatchObject({ pending: 3 });
    emu.cxone.faults.clear();
    // The object lost its alarm (its retries ran out, say) with everyone still pending.
    await runInDurableObject(stub, (_instance, state) => state.storage.deleteAlarm());
    expect(await alarmOf(stub)).toBeNull();
    const config = requireConfig(env);
    const report = await reconcile(reconcileDeps(env, config), { now: Date.now() + 2 * MINUTE, recheckMs: config.RECONCILE_AFTER_MINUTES * MINUTE });
    expect(report.batchesPending).toBe(3);
    // Woken: its alarm (which may already be running) takes it from here.
    for (let i = 0; i < 50 && (await stub.stats()).pending > 0; i++) if (!(await step(stub))) await new Promise((r) => setTimeout(r, 50));
    expect(await stub.stats()).toMatchObject({ pending: 0, launched: 3 });
    expect(await d1Count("SELECT COUNT(*) AS n FROM proactive_batches WHERE id = ? AND finished_at IS NOT NULL AND launched = 3", batchId)).toBe(1);
  });
});
