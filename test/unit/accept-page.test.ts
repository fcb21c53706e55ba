import { describe, expect, it } from "vitest";
import type { OutboundItem } from "../../src/adapters/cxone/reply-item";
import type { NewOutbound, PageLookup } from "../../src/adapters/db/outbound";
import { requireConfig } from "../../src/config";
import { acceptPage, type PageDeps } from "../../src/domain/outbound/accept";
import type { OutboundJob } from "../../src/domain/outbound/job";
import { TEST_BINDINGS } from "../support/bindings";

const config = requireConfig({ ...TEST_BINDINGS, TWILIO_FROM_NUMBER: "" });
const item = (n: number, over: Partial<OutboundItem> = {}): OutboundItem => ({
  id: `msg-${n}`,
  conversationId: `conv-${n}`,
  to: `+1415555${String(1000 + n)}`,
  body: `reply ${n}`,
  from: "+15550001000",
  createdTime: new Date(1_700_000_000_000 + n).toISOString(),
  ...over,
} as OutboundItem);

/** Fake D1 and queues that count every call: the page must use the two page statements only. */
function world(existing: PageLookup["existing"] = new Map(), takenByOthers: string[] = []) {
  const calls: string[] = [];
  const claimedRows: NewOutbound[] = [];
  const enqueued: { sender: string; job: OutboundJob }[] = [];
  const refused: [string, string][] = [];
  const perItem = (name: string) => async () => {
    calls.push(name);
    throw new Error(`${name} called for one item of a page`);
  };
  const deps: PageDeps = {
    lookupPage: async (conversationIds, ids) => {
      calls.push("lookupPage");
      expect(new Set(ids).size).toBe(ids.length);
      return { business: new Map(conversationIds.map((c) => [c, null])), existing };
    },
    claimMany: async (rows) => {
      calls.push("claimMany");
      claimedRows.push(...rows);
      return new Set(rows.map((r) => r.cxoneMessageId).filter((id) => !takenByOthers.includes(id)));
    },
    businessNumberOf: perItem("businessNumberOf"),
    claim: perItem("claim"),
    existing: perItem("existing"),
    isSuppressed: perItem("isSuppressed"),
    refuse: async (id, code) => void refused.push([id, code]),
    claimRefused: perItem("claimRefused"),
    enqueue: async (sender, job) => void enqueued.push({ sender, job }),
    enqueueMany: async (sender, jobs) => {
      calls.push("enqueueMany");
      enqueued.push(...jobs.map((job) => ({ sender, job })));
    },
  };
  return { deps, calls, claimedRows, enqueued, refused };
}

describe("a page of polled replies", () => {
  it("takes 50 replies with one lookup and one claim, and queues each once", async () => {
    const w = world();
    const items = Array.from({ length: 50 }, (_, n) => item(n));
    await acceptPage(w.deps, config, [...items, items[7]!], 8);
    expect(w.calls).toEqual(["lookupPage", "claimMany", "enqueueMany"]);
    expect(w.claimedRows.map((r) => r.cxoneMessageId)).toEqual(items.map((i) => i.id));
    expect(w.enqueued.map((e) => e.job.cxoneMessageId).sort()).toEqual(items.map((i) => i.id).sort());
    expect(w.enqueued.every((e) => e.sender === "+15550001000")).toBe(true);
  });

  it.each([
    ["claimed before and still queued (its first handler died): queued again, in its own object", "queued", 1],
    ["claimed before and sent: left alone", "submitted", 0],
    ["claimed before and refused: left alone", "failed", 0],
  ])("a reply %s", async (_name, state, queuedAgain) => {
    const w = world(new Map([["msg-1", { state, sender: "+15550001000", createdAt: 1, cxoneCreatedAt: null }]]));
    await acceptPage(w.deps, config, [item(1), item(2)], 8);
    expect(w.claimedRows.map((r) => r.cxoneMessageId)).toEqual(["msg-2"]);
    expect(w.enqueued.filter((e) => e.job.cxoneMessageId === "msg-1")).toHaveLength(queuedAgain);
    expect(w.enqueued.filter((e) => e.job.cxoneMessageId === "msg-2")).toHaveLength(1);
  });

  it("leaves a reply claimed by a push between the lookup and the claim to that push", async () => {
    const w = world(new Map(), ["msg-1"]);
    await acceptPage(w.deps, config, [item(1), item(2)], 8);
    expect(w.enqueued.map((e) => e.job.cxoneMessageId)).toEqual(["msg-2"]);
  });

  it("claims and refuses a reply with no sender at all (NO_SENDER)", async () => {
    const w = world();
    await acceptPage(w.deps, config, [item(1, { from: undefined })], 8);
    expect(w.claimedRows).toHaveLength(1);
    expect(w.refused).toEqual([["msg-1", "NO_SENDER"]]);
    expect(w.enqueued).toEqual([]);
  });
});
