import { describe, expect, it } from "vitest";
import { requireConfig } from "../../src/config";
import { launchProactive, type ProactiveDeps } from "../../src/domain/proactive";
import { TEST_BINDINGS } from "../support/bindings";

/**
 * What a proactive request answers when its message was already judged — the repeat of a request
 * whose Worker died midway finds the message refused, or a dead letter of the reconciler's.
 */
describe("the answer to a proactive request", () => {
  const config = requireConfig({ ...TEST_BINDINGS, QUIET_HOURS: "00:00-00:00" }, "proactive");
  const deps = (state: string): ProactiveDeps => ({
    firstAnswers: async () => new Map(),
    suppressedAmong: async () => new Set(),
    openProactive: async () => ({ conversationId: "conv-1", messageId: "msg-1" }),
    recordConversations: async () => {},
    accept: async (entries) => entries.map(() => ({ duplicate: state !== "queued", state, createdAt: 0 })),
    lastInbound: async () => null,
    remember: async (entries) => new Map(entries.map((e) => [e.request.key, e.answer])),
  });
  const request = { key: "k-1", campaignId: "c", to: "+14155550123", text: "Your order shipped" };

  it.each([
    ["queued", { status: "queued" }],
    ["submitted", { status: "queued" }],
    ["failed", { status: "refused", reason: "opted_out" }],
    ["dead", { status: "failed", reason: "dead_letter" }],
  ])("message %s → %o", async (state, expected) => {
    const answer = await launchProactive(deps(state), config, request);
    expect(answer).toEqual({ conversationId: "conv-1", messageId: "msg-1", ...expected });
  });
});
