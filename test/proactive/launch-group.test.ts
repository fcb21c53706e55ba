import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { requireConfig } from "../../src/config";
import { proactiveDeps } from "../../src/deps";
import { launchMany, launchProactive, type ProactiveRequest } from "../../src/domain/proactive";
import { awakeNumbers } from "../support/awake";
import { countedD1 } from "../support/d1-count";
import { useEmulators } from "../support/emulators";
import { inboundFields, postInbound, thread } from "../support/inbound";
import { senderNumber, settle } from "../support/outbound";

/**
 * A batch's object launches its recipients a group at a time (src/do/batch.ts): D1 is read and
 * written once per step for the group. One by one, each recipient cost 8 D1 statements.
 */
const emu = useEmulators();
const FROM = "+15550009001";
let n = 0;
const awake = awakeNumbers();
const recipient = () => awake(3_000 + (++n % 1_000));
const request = (to: string, over: Partial<ProactiveRequest> = {}): ProactiveRequest => ({ key: `group-${crypto.randomUUID()}`, campaignId: "storm", to, text: `Storm alert for ${to}`, from: FROM, ...over });

describe("a group of proactive launches", () => {
  it("launches 20 recipients in 7 D1 statements: one suppressed, one answered before, the rest queued once each", async () => {
    const config = requireConfig(env);
    const reqs = Array.from({ length: 20 }, () => request(recipient()));
    await env.DB.prepare("INSERT INTO opt_outs (business, phone, source, created_at) VALUES ('*', ?, 'test', 0)").bind(reqs[3]!.to).run();
    const before = await launchProactive(proactiveDeps(env, config), config, reqs[11]!);

    const d1 = countedD1();
    const launches = await launchMany(proactiveDeps({ ...env, DB: d1.db }, config), config, reqs);
    expect(await d1.statements()).toBe(7);

    expect(launches.every((l) => l.ok)).toBe(true);
    const answers = launches.map((l) => (l.ok ? l.answer : undefined));
    expect(answers[3]).toMatchObject({ status: "refused", reason: "opted_out" });
    expect(answers[11]).toEqual(before);
    expect(answers.filter((a) => a?.status === "queued")).toHaveLength(19);
    await settle(FROM);
    const sent = emu.twilio.messages().filter((m) => reqs.some((r) => r.to === m.to));
    expect(sent.map((m) => m.to).sort()).toEqual(reqs.filter((_, i) => i !== 3).map((r) => r.to).sort());
  });

  it("threads a customer's reply to the later of two alerts to them in one group", async () => {
    const config = requireConfig(env);
    const to = recipient();
    const [first, second] = [request(to, { text: "Your flight is delayed" }), request(to, { text: "Your flight is cancelled" })];
    const launches = await launchMany(proactiveDeps(env, config), config, [first!, second!]);
    const [a, b] = launches.map((l) => (l.ok ? l.answer.conversationId : null));
    expect(a).not.toBe(b);
    await settle(FROM);
    await postInbound(inboundFields({ From: to, To: FROM, Body: "Rebook me please" }));
    await thread(to, FROM).deliver();
    expect(emu.cxone.conversation(b!)!.messages.map((m) => m.text)).toEqual(["Your flight is cancelled", "Rebook me please"]);
    expect(emu.cxone.conversation(a!)!.messages.map((m) => m.text)).toEqual(["Your flight is delayed"]);
  });

  it("judges a number against its own request's sender: opted out of one, still reached from another in the same group", async () => {
    const config = requireConfig(env);
    const to = recipient();
    const [a, b] = [senderNumber(), senderNumber()];
    await env.DB.prepare("INSERT INTO opt_outs (business, phone, source, created_at) VALUES (?, ?, 'test', 0)").bind(a, to).run();
    const launches = await launchMany(proactiveDeps(env, config), config, [request(to, { from: a }), request(to, { from: b })]);
    expect(launches.map((l) => (l.ok ? l.answer.status : l.error))).toEqual(["refused", "queued"]);
  });
});
