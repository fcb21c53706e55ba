import { exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { advance, inboundFields, phone, postInbound, postTwilio, thread } from "../support/inbound";
import { outboundItem, pusher, senderNumber, settle } from "../support/outbound";

const emu = useEmulators();
const push = pusher(emu);
const lines: string[] = [];
const spies: { mockRestore(): void }[] = [];

beforeAll(() => {
  for (const level of ["log", "warn", "error", "info", "debug"] as const) {
    const original = console[level].bind(console);
    spies.push(
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a) ?? String(a))).join(" "));
        original(...args);
      }),
    );
  }
});
afterAll(() => spies.forEach((s) => s.mockRestore()));

const numbers: string[] = [B.TWILIO_FROM_NUMBER];
const plainSid = `SM${crypto.randomUUID().replaceAll("-", "")}`;
const recoveredSid = `SM${crypto.randomUUID().replaceAll("-", "")}`;
const bodies: string[] = [];
const body = (label: string) => {
  const marker = `secret-body-${label}-${crypto.randomUUID().slice(0, 8)}`;
  bodies.push(marker);
  return marker;
};
const number = () => {
  const n = phone();
  numbers.push(n);
  return n;
};

describe("logs tell the story without telling secrets", () => {
  it("runs messages through every path", async () => {
    // Inbound: delivered, delivered after a retry, dead-lettered, an opt-out, a forged webhook, a bad one.
    const customer = number();
    await postInbound(inboundFields({ From: customer, Body: body("inbound"), MessageSid: plainSid }));
    await thread(customer).deliver();
    emu.cxone.faults.add({ method: "POST", path: "/messages$", kind: "status", status: 503, times: 1 });
    await postInbound(inboundFields({ From: customer, Body: body("recovered"), MessageSid: recoveredSid }));
    await thread(customer).deliver();
    await advance(customer);
    emu.cxone.faults.add({ method: "POST", path: "/messages$", kind: "status", status: 503, times: Number(B.RETRY_MAX_ATTEMPTS) });
    await postInbound(inboundFields({ From: customer, Body: body("dead") }));
    await thread(customer).deliver();
    for (let i = 1; i < Number(B.RETRY_MAX_ATTEMPTS); i++) await advance(customer);
    await postInbound(inboundFields({ From: customer, Body: "STOP" }));
    await thread(customer).deliver();
    await postInbound(inboundFields({ From: number(), Body: body("forged") }), { token: "not-the-token" });
    await postInbound(inboundFields({ From: "4155550100", Body: body("invalid") }));

    // Outbound: sent, refused by Twilio with a number in its error text, opted out, lost answer.
    const from = senderNumber();
    numbers.push(from);
    const to = number();
    const ok = outboundItem({ from, to, body: body("reply") });
    await push(ok);
    await settle(from);
    const refused = outboundItem({ from, to: number(), body: body("refused") });
    emu.twilio.faults.add({ method: "POST", path: "/Messages\\.json$", kind: "status", status: 400, times: 1, body: { code: 21211, message: `The 'To' number ${refused.to} is not a valid phone number.` } });
    await push(refused);
    await settle(from);
    await push(outboundItem({ from: B.TWILIO_FROM_NUMBER, to: customer, body: body("suppressed") }));
    await settle(B.TWILIO_FROM_NUMBER);
    emu.twilio.faults.add({ method: "POST", path: "/Messages\\.json$", kind: "lost", times: 1 });
    await push(outboundItem({ from, to: number(), body: body("lost") }));
    await settle(from);

    // Status callbacks: final, orphan; the admin view and the reconciler.
    const sid = emu.twilio.messages().find((m) => m.to === to)!.sid;
    await emu.twilio.sendStatus(sid, "undelivered", 30003);
    await postTwilio("/twilio/status", { MessageSid: `SM${"f".repeat(32)}`, MessageStatus: "sent", AccountSid: B.TWILIO_ACCOUNT_SID, To: number() });
    const auth = { authorization: `Bearer ${B.ADMIN_TOKEN}` };
    await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/admin/messages/${ok.id}`, { headers: auth }));
    await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/admin/reconcile`, { method: "POST", headers: auth }));
    await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/admin/opt-outs/${customer}`, { method: "PUT", headers: auth }));
    expect(lines.length).toBeGreaterThan(20);
  });

  it("logged one JSON object per line with an event name", () => {
    const ours = lines.filter((l) => l.startsWith("{"));
    expect(ours.length).toBeGreaterThan(20);
    for (const line of ours) expect(JSON.parse(line)).toHaveProperty("event");
    const events = new Set(ours.map((l) => (JSON.parse(l) as { event: string }).event));
    for (const e of ["inbound.accepted", "inbound.delivered", "cxone.retry", "deadletter", "inbound.signature_rejected", "outbound.accepted", "outbound.sent", "outbound.refused", "outbound.recovered", "status.final", "status.orphan"]) {
      expect(events, e).toContain(e);
    }
  });

  const storyOf = (sid: string) => lines.filter((l) => l.startsWith("{") && l.includes(sid)).map((l) => JSON.parse(l) as Record<string, unknown>);

  it("kept a text's happy path off info, and logged its recovery after a retry there, with its numbers masked", () => {
    // The first text opens the customer's conversation: that is news. Its acceptance and its
    // first-try delivery are debug.
    expect(storyOf(plainSid).map((e) => [e.level, e.event])).toEqual([["info", "cxone.conversation_created"]]);
    const recovered = storyOf(recoveredSid);
    expect(recovered.map((e) => [e.level, e.event])).toEqual([["warn", "cxone.retry"], ["info", "inbound.delivered"]]);
    expect(recovered[1]).toMatchObject({ attempt: 2, from: expect.stringMatching(/^\*\*\*\d{4}$/), to: expect.stringMatching(/^\*\*\*\d{4}$/), segments: 1, conversationId: expect.any(String) });
  });

  it("never logged a message body, a full phone number, a secret or a token", () => {
    const secrets = [B.TWILIO_AUTH_TOKEN, B.CXONE_CLIENT_SECRET, B.CXONE_WEBHOOK_SECRET, B.ADMIN_TOKEN, B.API_TOKEN, "emu."];
    const all = lines.join("\n");
    for (const b of bodies) expect(all, "a body").not.toContain(b);
    for (const n of numbers) {
      expect(all, `the number ${n}`).not.toContain(n);
      expect(all, `the number ${n} without +`).not.toContain(n.slice(1));
    }
    for (const s of secrets) expect(all, "a secret").not.toContain(s);
    expect(all).toContain("***");
  });
});
