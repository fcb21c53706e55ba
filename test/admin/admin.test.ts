import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { advance, inboundFields, phone, postInbound, thread } from "../support/inbound";
import { outboundItem, pusher, senderNumber, settle } from "../support/outbound";

const emu = useEmulators();
const push = pusher(emu);

function admin(path: string, init: RequestInit & { token?: string | null } = {}) {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set("authorization", `Bearer ${init.token ?? B.ADMIN_TOKEN}`);
  return exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}${path}`, { ...init, headers }));
}

const routes: [string, string][] = [
  ["GET", "/admin/messages/x"],
  ["GET", "/admin/conversations/x"],
  ["GET", "/admin/dead-letters"],
  ["POST", "/admin/dead-letters/1/retry"],
  ["GET", "/admin/opt-outs/+14155550100"],
  ["PUT", "/admin/opt-outs/+14155550100"],
  ["DELETE", "/admin/opt-outs/+14155550100"],
  ["POST", "/admin/reconcile"],
];

describe("admin API authentication", () => {
  for (const [method, path] of routes) {
    it(`${method} ${path}: 401 without a token, 401 with a wrong one, not 401 with the right one`, async () => {
      expect((await admin(path, { method, token: null })).status).toBe(401);
      expect((await admin(path, { method, token: "wrong" })).status).toBe(401);
      expect((await admin(path, { method, token: `${B.ADMIN_TOKEN}x` })).status).toBe(401);
      const ok = await admin(path, { method });
      expect(ok.status).not.toBe(401);
      expect(ok.status).toBeLessThan(500);
    });
  }
});

describe("admin API", () => {
  it("looks a message up by CXone id or MessageSid: mapping, state, segments, attempts, history", async () => {
    const from = senderNumber();
    const item = outboundItem({ from, body: "Ünïcödé reply" });
    await push(item);
    await settle(from);
    const sid = emu.twilio.messages().find((m) => m.to === item.to)!.sid;
    await emu.twilio.sendStatus(sid, "sent");
    await emu.twilio.sendStatus(sid, "delivered");
    for (const id of [item.id, sid]) {
      const res = await admin(`/admin/messages/${id}`);
      expect(res.status).toBe(200);
      const view = (await res.json()) as Record<string, any>;
      expect(view.message).toMatchObject({ cxoneMessageId: item.id, messageSid: sid, state: "settled", twilioStatus: "delivered", segments: 1, encoding: "UCS-2", attempts: 1 });
      expect(view.statusHistory.map((h: { status: string }) => h.status)).toEqual(["sent", "delivered"]);
      expect(view.reports.map((r: { status: string; state: string }) => [r.status, r.state])).toEqual([["SENT", "done"], ["DELIVERED", "done"]]);
      expect(view.queue).toMatchObject({ state: "done", sid });
      expect(JSON.stringify(view)).not.toContain("Ünïcödé");
    }
    expect((await admin("/admin/messages/nope")).status).toBe(404);
  });

  it("shows a conversation with its messages in order", async () => {
    const customer = phone();
    for (const body of ["one", "two"]) {
      await postInbound(inboundFields({ From: customer, Body: body }));
      await thread(customer).deliver();
    }
    const conversationId = emu.cxone.conversationsOf(customer)[0]!.id;
    const view = (await (await admin(`/admin/conversations/${conversationId}`)).json()) as Record<string, any>;
    expect(view.conversation).toMatchObject({ id: conversationId, customer, business: B.TWILIO_FROM_NUMBER });
    expect(view.messages.map((m: { direction: string; state: string }) => [m.direction, m.state])).toEqual([
      ["inbound", "delivered"],
      ["inbound", "delivered"],
    ]);
  });

  it("lists dead letters and retries an inbound one into CXone", async () => {
    const customer = phone();
    emu.cxone.faults.add({ method: "POST", path: "/messages$", kind: "status", status: 503, times: Number(B.RETRY_MAX_ATTEMPTS) });
    const fields = inboundFields({ From: customer, Body: "dead then alive" });
    await postInbound(fields);
    await thread(customer).deliver();
    for (let i = 1; i < Number(B.RETRY_MAX_ATTEMPTS); i++) await advance(customer);
    const { deadLetters } = (await (await admin("/admin/dead-letters")).json()) as { deadLetters: { id: number; ref: string; kind: string; reason: string }[] };
    const letter = deadLetters.find((d) => d.ref === fields.MessageSid)!;
    expect(letter).toMatchObject({ kind: "inbound", reason: expect.stringContaining("503") });
    const res = await admin(`/admin/dead-letters/${letter.id}/retry`, { method: "POST" });
    expect(await res.json()).toMatchObject({ outcome: "redelivered", state: "delivered" });
    expect(emu.cxone.conversationsOf(customer)[0]!.messages.map((m) => m.text)).toEqual(["dead then alive"]);
  });

  it("reads, adds and removes opt-outs", async () => {
    const number = phone();
    expect(await (await admin(`/admin/opt-outs/${number}`)).json()).toMatchObject({ suppressed: false });
    expect((await admin(`/admin/opt-outs/${number}`, { method: "PUT" })).status).toBe(200);
    expect(await (await admin(`/admin/opt-outs/${number}`)).json()).toMatchObject({ suppressed: true, optOuts: [{ business: "*", source: "admin" }] });
    // A wildcard opt-out stops replies from any sender.
    const item = outboundItem({ to: number });
    await push(item);
    await settle();
    expect(emu.cxone.state.reports.get(item.id)?.map((r) => r.body.deliveryReceipt.errorCode)).toEqual(["OPTED_OUT"]);
    expect(await (await admin(`/admin/opt-outs/${number}`, { method: "DELETE" })).json()).toMatchObject({ removed: 1 });
    expect(await (await admin(`/admin/opt-outs/${number}`)).json()).toMatchObject({ suppressed: false });
  });

  it.each([
    ["GET", "/admin/opt-outs/4155550100", 400],
    ["PUT", "/admin/opt-outs/+14155550100", 400, '{"business":"nope"}'],
    ["PUT", "/admin/opt-outs/+14155550100", 400, "{bad json"],
    ["POST", "/admin/dead-letters/abc/retry", 400],
    ["POST", "/admin/dead-letters/999999/retry", 404],
  ] as const)("%s %s with bad input → %i JSON", async (method, path, status, body?: string) => {
    const res = await admin(path, { method, body, headers: body ? { "content-type": "application/json" } : {} });
    expect(res.status).toBe(status);
    expect(await res.json()).toHaveProperty("error");
  });

  it("runs the reconciler on demand and says what it did", async () => {
    const res = await admin("/admin/reconcile", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ statusChecked: expect.any(Number), reports: { sent: expect.any(Number) }, errors: 0 });
  });
});
