import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/adapters/db/client";
import { createBatch } from "../../src/adapters/db/proactive";
import { requireConfig } from "../../src/config";
import { pageDeps, proactiveDeps, reconcileDeps } from "../../src/deps";
import { acceptMany } from "../../src/domain/outbound/accept";
import { launchProactive, type ProactiveDeps, type ProactiveRequest } from "../../src/domain/proactive";
import { reconcile } from "../../src/domain/reconcile";
import { useDfoEmulators } from "../support/dfo";
import { d1Count } from "../support/inbound";
import { settle } from "../support/outbound";

/**
 * What the DFO soak (`CXONE_API_MODE=dfo npm run soak`) found in the bridge, each pinned here.
 */
const emu = useDfoEmulators();
const MAIN = "+15550001000";
const MINUTE = 60_000;
let n = 0;
const recipient = () => `+8190${String(50_000_000 + ++n)}`;

describe("found by the DFO soak", () => {
  it("a batch recipient whose launch died between its claim and its queue is left to its batch, not dead-lettered as lost", async () => {
    // Seed 1, 120 messages: the Worker restarted while a batch was launching; its object woke
    // 30 s later (its alarm's fallback), but the reconciler had already filed two recipients as
    // "accepted but never queued" (FAILED/LOST to CXone), so the batch refused them: two alerts lost.
    const config = requireConfig(env);
    const batchId = crypto.randomUUID();
    const to = recipient();
    const req: ProactiveRequest = { key: `soak-${to}`, campaignId: "soak-batch", to, text: `gate changed for ${to}`, from: MAIN, batchId };
    await createBatch(database(env.DB), { id: batchId, campaignId: req.campaignId, total: 1, accepted: 1, refused: 0, createdAt: Date.now() });

    // The pass that died: posted into the thread and claimed in D1, never in the sender's queue.
    const dying: ProactiveDeps = {
      ...proactiveDeps(env, config),
      accept: (entries) => acceptMany({ ...pageDeps(env, config), enqueueMany: () => Promise.reject(new Error("the Worker was restarted")) }, config, entries, "proactive", 8),
    };
    await expect(launchProactive(dying, config, req)).rejects.toThrow("restarted");
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE batch_id = ? AND state = 'queued'", batchId)).toBe(1);

    // The reconciler comes by once the row is due (RECONCILE_AFTER_MINUTES after it may be sent)
    // while the batch is still launching.
    const { checkAt } = (await env.DB.prepare("SELECT check_at AS checkAt FROM messages WHERE batch_id = ?").bind(batchId).first<{ checkAt: number }>())!;
    const report = await reconcile(reconcileDeps(env, config), { now: checkAt + MINUTE, recheckMs: 10 * MINUTE });
    expect(report.lost).toBe(0);
    expect(await d1Count("SELECT COUNT(*) AS n FROM dead_letters WHERE ref IN (SELECT cxone_message_id FROM messages WHERE batch_id = ?)", batchId)).toBe(0);

    // The batch's object launches it again: the same message, queued and sent once.
    const stub = env.BATCH.getByName(batchId);
    await stub.add(batchId, [req]);
    expect(await stub.drain()).toMatchObject({ pending: 0, launched: 1, failed: 0, refused: 0 });
    await settle(MAIN);
    expect(emu.twilio.messages().filter((m) => m.to === to).map((m) => m.body)).toEqual([req.text]);
    const [alert] = [...emu.dfo.state.threads.values()].filter((t) => t.threadId === to).flatMap((t) => t.messages);
    expect(emu.dfo.state.statuses.get(alert!.idOnExternalPlatform!)?.map((s) => s.status) ?? []).not.toContain("failed");
  });
});
