import { describe, expect, it } from "vitest";
import { checkSignature, parseForm } from "../../src/adapters/twilio/signature";
import { createCxoneEmulator } from "../../emulators/cxone/app";
import { CAPTURE, capturingEmulator, textOf } from "../support/twilio-capture";

const { ACCOUNT, TOKEN } = CAPTURE;
const SERVICE = `MG${"a".repeat(32)}`;
const SEND = `https://twilio.test/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;
const twilio = () => capturingEmulator();
const send = (emu: ReturnType<typeof twilio>["emu"]) =>
  emu.app.fetch(
    new Request(SEND, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${ACCOUNT}:${TOKEN}`)}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ To: "+14155550100", From: "+15550001000", Body: "hi" }),
    }),
  );

// The faults and fields the soak added to the emulators: each must do exactly what the soak's
// verdict assumes, or a soak failure would blame the bridge for the emulator.
describe("the emulators' soak faults", () => {
  it("slow_commit: waits, then creates the message and answers 201 — a commit after the client gave up", async () => {
    const { emu } = twilio();
    emu.faults.add({ method: "POST", path: "/Messages\\.json$", kind: "slow_commit", delayMs: 300, times: 1 });
    const started = Date.now();
    const pending = send(emu);
    await new Promise((r) => setTimeout(r, 100));
    expect(emu.messages()).toHaveLength(0);
    const res = await pending;
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const [m] = emu.messages();
    expect(((await res.json()) as { sid: string }).sid).toBe(m!.sid);
    // Counted against the sender's rate when the request arrived, not when it committed.
    expect(m!.receivedAt - started).toBeLessThan(100);
    expect(emu.stats().faults).toEqual({ slow_commit: 1 });
  });

  it("extraFields: signed with the webhook, replacing a standard field of the same name instead of repeating it", async () => {
    const { emu, captured } = twilio();
    const extraFields: [string, string][] = [["MessagingServiceSid", ""], ["OptOutType", ""], ["FromCity", ""], ["ErrorCode", ""]];
    await emu.sendInbound({ from: "+14155550100", to: "+15550001000", body: "hello", messagingServiceSid: SERVICE, extraFields });
    const raw = await textOf(captured[0]!);
    const form = new URLSearchParams(raw);
    expect(form.getAll("MessagingServiceSid")).toEqual([""]);
    expect(form.getAll("FromCity")).toEqual([""]);
    expect(form.getAll("OptOutType")).toEqual([""]);
    expect(form.getAll("ErrorCode")).toEqual([""]);
    expect(form.get("Body")).toBe("hello");
    const signature = captured[0]!.headers.get("x-twilio-signature");
    expect((await checkSignature([TOKEN], signature, "https://bridge.example/twilio/inbound", parseForm(raw))).valid).toBe(true);
  });

  it("extraFields through /_emu/inbound", async () => {
    const { emu, captured } = twilio();
    const res = await emu.app.fetch(
      new Request("https://twilio.test/_emu/inbound", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ from: "+14155550100", to: "+15550001000", body: "hi", extraFields: [["NumSegments", ""]] }),
      }),
    );
    expect(res.status).toBe(200);
    expect(new URLSearchParams(await textOf(captured[0]!)).getAll("NumSegments")).toEqual([""]);
  });

  it("a CXone status report whose answer a fault lost is marked, so its retry is not taken for a duplicate", async () => {
    const cxone = createCxoneEmulator({ clientId: "id", clientSecret: "secret", random: () => 0 });
    const token = (await (
      await cxone.app.fetch(
        new Request("https://cxone.test/auth/token", { method: "POST", headers: { authorization: `Basic ${btoa("id:secret")}` }, body: "grant_type=client_credentials" }),
      )
    ).json()) as { access_token: string };
    cxone.state.messageIds.add("m1");
    const report = () =>
      cxone.app.fetch(
        new Request("https://cxone.test/api/v2/open-messaging/messages/m1", {
          method: "PUT",
          headers: { authorization: `Bearer ${token.access_token}`, "content-type": "application/json" },
          body: JSON.stringify({ status: "SENT", deliveryReceipt: { status: "SENT", timestamp: new Date().toISOString() } }),
        }),
      );
    // random: () => 0, so a rule with a probability fires every time it is drawn.
    cxone.faults.add({ method: "PUT", path: "/messages/", kind: "lost", probability: 0.5, times: 1 });
    expect((await report()).status).toBe(500);
    expect((await report()).status).toBe(200);
    expect(cxone.state.reports.get("m1")!.map((r) => r.answerLost ?? false)).toEqual([true, false]);
  });
});
