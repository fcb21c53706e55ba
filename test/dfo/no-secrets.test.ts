import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { DFO_BINDINGS as D } from "../support/bindings";
import { useDfoEmulators } from "../support/dfo";
import { inboundFields, phone, postInbound, thread } from "../support/inbound";
import { settle } from "../support/outbound";

/**
 * What `wrangler tail` shows in DFO mode: a DFO conversation id is "{channel}:{customer}" and the
 * 1.0 routes carry the customer in their path, so a number can reach a line by more ways than in
 * open-messaging mode. A customer texts, an agent answers (with CXone's OAuth dance), the carrier
 * reports, an alert goes out — and no line holds a full number, a body or a secret.
 */
const emu = useDfoEmulators();
const MAIN = "+15550001000";
const lines: string[] = [];
const spies: MockInstance[] = [];

beforeAll(() => {
  for (const method of ["log", "warn", "error"] as const) spies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" "))));
});
afterAll(() => spies.forEach((s) => s.mockRestore()));

describe("DFO logs", () => {
  const customer = phone();
  const bodies = ["Where is parcel 4471?", "It arrives today, sorry for the wait"];

  it("run a text, a reply through both callbacks, its receipt and a refused token", async () => {
    await postInbound(inboundFields({ From: customer, To: MAIN, Body: bodies[0]! }));
    await thread(customer, MAIN).deliver();
    await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: bodies[1]! });
    await emu.dfo.agentReply({ channelId: "chat_main", threadId: customer, text: "via the older route", form: "1.0" });
    await settle(MAIN);
    for (const m of emu.twilio.messages().filter((x) => x.to === customer)) await emu.twilio.sendStatus(m.sid, "delivered");
    expect(lines.some((l) => l.includes('"event":"status.final"'))).toBe(true);
    expect(lines.some((l) => l.includes('"event":"dfo.token_refused"'))).toBe(true);
  });

  it("never logged the customer's number, a body or a secret", () => {
    const all = lines.join("\n");
    expect(all).not.toContain(customer.slice(1));
    expect(all).not.toContain(encodeURIComponent(customer));
    for (const b of bodies) expect(all).not.toContain(b);
    for (const s of [D.TWILIO_AUTH_TOKEN, D.CXONE_ACCESS_KEY_SECRET, D.CXONE_BYOC_CLIENT_SECRET, D.CXONE_CLIENT_SECRET]) expect(all).not.toContain(s);
    expect(all).toContain(`***${customer.slice(-4)}`);
  });
});
