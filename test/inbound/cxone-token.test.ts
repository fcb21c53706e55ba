import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useEmulators } from "../support/emulators";
import { advance, inboundFields, phone, postInbound, thread } from "../support/inbound";

const emu = useEmulators();
afterEach(() => {
  vi.useRealTimers();
});

async function textAndDeliver(customer = phone()) {
  await postInbound(inboundFields({ From: customer }));
  await thread(customer).deliver();
  return customer;
}

const unauthorizedAnswers = () => emu.cxone.faults.fired.unauthorized ?? 0;

describe("the CXone OAuth token", () => {
  it("is fetched once and reused, never once per message", async () => {
    for (let i = 0; i < 10; i++) await textAndDeliver();
    // At most one: an earlier test in this isolate may already have left a valid token cached.
    expect(emu.cxone.state.tokenRequests).toBeLessThanOrEqual(1);
    expect(emu.cxone.state.calls["POST /api/v2/conversations/:id/messages"]).toBe(10);
  });

  it("is refreshed shortly before it expires, without CXone having to refuse it", async () => {
    // A token fetched now: the isolate's copy may be one an earlier test file fetched, long before
    // this test's clock starts (the workerd tests share an isolate).
    emu.cxone.revokeTokens();
    await textAndDeliver();
    const before = emu.cxone.state.tokenRequests;
    vi.useFakeTimers({ toFake: ["Date"] });
    // Default lifetime 3600 s; the bridge refreshes in the last minute.
    vi.setSystemTime(Date.now() + 3_560_000);
    await textAndDeliver();
    expect(emu.cxone.state.tokenRequests).toBe(before + 1);
    await textAndDeliver();
    expect(emu.cxone.state.tokenRequests).toBe(before + 1);
  });

  it("is refreshed once after a 401 and the call retried", async () => {
    await textAndDeliver();
    const before = emu.cxone.state.tokenRequests;
    emu.cxone.faults.add({ path: "^/api/", kind: "unauthorized", times: 1 });
    const customer = await textAndDeliver();
    expect(emu.cxone.conversationsOf(customer)[0]!.messages).toHaveLength(1);
    expect(unauthorizedAnswers()).toBe(1);
    expect(emu.cxone.state.tokenRequests).toBe(before + 1);
  });

  it("is refreshed once when many threads hit a revoked token at the same moment", async () => {
    const customers = [phone(), phone(), phone(), phone(), phone()];
    await Promise.all(customers.map((c) => postInbound(inboundFields({ From: c }))));
    await Promise.all(customers.map((c) => thread(c).deliver()));
    const before = emu.cxone.state.tokenRequests;
    emu.cxone.revokeTokens();
    await Promise.all(customers.map((c) => postInbound(inboundFields({ From: c }))));
    await Promise.all(customers.map((c) => thread(c).deliver()));
    for (const c of customers) expect(emu.cxone.conversationsOf(c)[0]!.messages).toHaveLength(2);
    expect(emu.cxone.state.tokenRequests).toBe(before + 1);
  });

  it("does not loop when CXone refuses even a fresh token: one refresh, then a retry later", async () => {
    await textAndDeliver();
    emu.cxone.faults.add({ path: "^/api/", kind: "unauthorized", times: 2 });
    const customer = phone();
    await postInbound(inboundFields({ From: customer }));
    const status = await thread(customer).deliver();
    expect(status.pending).toBe(1);
    expect(unauthorizedAnswers()).toBe(2);
    await advance(customer);
    expect(emu.cxone.conversationsOf(customer)[0]!.messages).toHaveLength(1);
  });
});
