import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/adapters/db/client";
import { recordStatusEvent } from "../../src/adapters/db/status";
import { requireConfig } from "../../src/config";
import { reconcileDeps } from "../../src/deps";
import { reconcile } from "../../src/domain/reconcile";
import { useEmulators } from "../support/emulators";
import { phone } from "../support/inbound";
import { step } from "../support/clock";
import { outboundItem, pusher, sender, senderNumber, settle } from "../support/outbound";

/**
 * Issue 10, item 9 (contract §10): every due item's next check moves forward, with backoff, whether
 * its check succeeded or not — so a few rows whose check always fails cannot hold a step's batch
 * (50 messages, 100 orphan callbacks) for good.
 */
const emu = useEmulators();
const push = pusher(emu);
const MINUTE = 60_000;

const reports = (id: string) => (emu.cxone.state.reports.get(id) ?? []).map((r) => r.body.status);
const reconcileAt = (at: number) => {
  const config = requireConfig(env);
  return reconcile(reconcileDeps(env, config), { now: at, recheckMs: config.RECONCILE_AFTER_MINUTES * MINUTE });
};
const unknownSid = () => `SM${crypto.randomUUID().replace(/-/g, "")}`;

async function sent() {
  const from = senderNumber();
  const item = outboundItem({ from });
  await push(item);
  await settle(from);
  return { item, from, message: emu.twilio.messages().find((m) => m.to === item.to)! };
}

describe("the reconciler never starves", () => {
  it("checks a message whatever the Cron's backlog: 50 old D1 rows whose lookup fails every time", async () => {
    const due = Date.now() - 60 * MINUTE;
    // Sends Twilio has no record of (404 on every lookup), due long before the real one.
    for (let i = 0; i < 50; i++) {
      await env.DB.prepare(
        "INSERT INTO messages (direction, cxone_message_id, message_sid, customer, sender, state, twilio_status, created_at, updated_at, submitted_at, check_at) VALUES ('outbound', ?, ?, ?, ?, 'submitted', 'queued', ?, ?, ?, ?)",
      )
        .bind(`bad-${crypto.randomUUID()}`, unknownSid(), phone(), "+15550001000", due, due, due, due + i)
        .run();
    }
    const { item, message, from } = await sent();
    message.status = "delivered"; // Twilio knows; the callback never came.
    const at = Date.now() + 11 * MINUTE;
    const first = await reconcileAt(at);
    expect(first.statusChecked).toBe(50);
    expect(reports(item.id)).toEqual(["SENT"]);
    // Its own sender asks about it at its check time, however many rows the Cron has to look at.
    await step(sender(from));
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
  });

  it("matches an orphan callback behind 100 that never match", async () => {
    const db = database(env.DB);
    const old = Date.now() - 60 * MINUTE;
    for (let i = 0; i < 100; i++) await recordStatusEvent(db, { sid: unknownSid(), status: "delivered", at: old + i, matched: false });
    const { item, message } = await sent();
    // Its callback was kept as an orphan and the sender's own match missed it (a Worker dying
    // between the two, say): only the reconciler's sweep can apply it now.
    await recordStatusEvent(db, { sid: message.sid, status: "delivered", at: Date.now(), matched: false });
    const at = Date.now() + MINUTE;
    await reconcileAt(at);
    await reconcileAt(at + 1_000);
    expect(reports(item.id)).toEqual(["SENT", "DELIVERED"]);
  });
});
