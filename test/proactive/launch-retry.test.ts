import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { requireConfig } from "../../src/config";
import { pageDeps, proactiveDeps, reconcileDeps } from "../../src/deps";
import { acceptMany } from "../../src/domain/outbound/accept";
import { launchProactive, type ProactiveDeps, type ProactiveRequest } from "../../src/domain/proactive";
import { ALERT_RETRY_GRACE_MS, reconcile } from "../../src/domain/reconcile";
import { awakeNumbers } from "../support/awake";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count } from "../support/inbound";
import { senderNumber, settle } from "../support/outbound";

/**
 * Found by the open-messaging soak: the Worker restarted while a single alert was launching, after
 * its message was claimed in D1 and before its sender had it. The reconciler filed it as lost 15 s
 * later (RECONCILE_AFTER_MINUTES in the soak), and the caller's retry with the same key was then
 * answered "refused": an alert lost. The caller's retry is what finishes such a launch.
 */
const emu = useEmulators();
const MINUTE = 60_000;
// Awake now: quiet hours would defer the send, and with it the reconciler's first look, by hours.
const number = awakeNumbers();
let n = 0;
const recipient = () => number(6_000 + ++n);

/** Launches `req` the way the restart left it: in CXone and claimed in D1, never in the sender's queue. */
async function dyingLaunch(req: ProactiveRequest) {
  const config = requireConfig(env);
  const dying: ProactiveDeps = {
    ...proactiveDeps(env, config),
    accept: (entries) => acceptMany({ ...pageDeps(env, config), enqueueMany: () => Promise.reject(new Error("the Worker was restarted")) }, config, entries, "proactive", 8),
  };
  await expect(launchProactive(dying, config, req)).rejects.toThrow("restarted");
  const row = await env.DB.prepare("SELECT cxone_message_id AS id, check_at AS checkAt, created_at AS createdAt FROM messages WHERE customer = ? AND state = 'queued'")
    .bind(req.to)
    .first<{ id: string; checkAt: number; createdAt: number }>();
  return row!;
}

const retry = (req: ProactiveRequest) =>
  exports.default.fetch(
    new Request(`${B.PUBLIC_BASE_URL}/v1/proactive`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${B.API_TOKEN}` },
      body: JSON.stringify({ campaignId: req.campaignId, to: req.to, text: req.text, from: req.from, idempotencyKey: req.key }),
    }),
  );

describe("a single alert whose launch died between its claim and its queue", () => {
  it("is left to the caller's retry by the reconciler, and the retry sends it once", async () => {
    const from = senderNumber();
    const to = recipient();
    const req: ProactiveRequest = { key: `retry-${to}`, campaignId: "soak", to, text: `gate changed for ${to}`, from };
    const row = await dyingLaunch(req);

    const config = requireConfig(env);
    const report = await reconcile(reconcileDeps(env, config), { now: row.checkAt + MINUTE, recheckMs: 10 * MINUTE });
    expect(report.lost).toBe(0);
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE ref = ?", row.id)).toBe(0);

    const res = await retry(req);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ messageId: row.id, status: "queued" });
    await settle(from);
    expect(emu.twilio.messages().filter((m) => m.to === to).map((m) => m.body)).toEqual([req.text]);
    expect(emu.cxone.state.reports.get(row.id)?.map((r) => r.body.status)).not.toContain("FAILED");
  });

  it("is a dead letter, FAILED to CXone, once no retry came within the grace", async () => {
    const to = recipient();
    const req: ProactiveRequest = { key: `retry-${to}`, campaignId: "soak", to, text: "never retried", from: senderNumber() };
    const row = await dyingLaunch(req);

    const config = requireConfig(env);
    const report = await reconcile(reconcileDeps(env, config), { now: row.createdAt + ALERT_RETRY_GRACE_MS + MINUTE, recheckMs: 10 * MINUTE });
    expect(report.lost).toBe(1);
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE ref = ?", row.id)).toBe(1);
    expect(emu.cxone.state.reports.get(row.id)?.map((r) => [r.body.status, r.body.deliveryReceipt.errorCode])).toEqual([["FAILED", "LOST"]]);
  });
});
