import { describe, expect, it } from "vitest";
import { advances, predecessors, receiptFor, TWILIO_STATUSES, type TwilioStatus } from "../../src/domain/status";

describe("the Twilio status state machine", () => {
  const forward: [string | null, TwilioStatus][] = [
    [null, "queued"],
    [null, "delivered"],
    ["accepted", "queued"],
    ["queued", "sending"],
    ["queued", "sent"],
    ["sending", "sent"],
    ["sent", "delivered"],
    ["sent", "undelivered"],
    ["sending", "failed"],
    ["queued", "canceled"],
    ["delivered", "read"],
  ];
  it.each(forward)("moves %s → %s", (from, to) => expect(advances(from, to)).toBe(true));

  const back: [string, TwilioStatus][] = [
    ["sent", "sending"],
    ["sent", "queued"],
    ["delivered", "sent"],
    ["delivered", "sending"],
    ["delivered", "undelivered"],
    ["undelivered", "delivered"],
    ["failed", "delivered"],
    ["canceled", "sent"],
    ["sent", "sent"],
    ["delivered", "delivered"],
    ["sent", "read"],
    ["read", "delivered"],
  ];
  it.each(back)("never moves %s → %s", (from, to) => expect(advances(from, to)).toBe(false));

  it("derives the UPDATE condition from the same rule", () => {
    for (const next of TWILIO_STATUSES) {
      for (const current of TWILIO_STATUSES) expect(predecessors(next).includes(current)).toBe(advances(current, next));
    }
  });

  it("turns final states only into receipts", () => {
    expect(TWILIO_STATUSES.map((s) => [s, receiptFor(s) ?? null])).toEqual([
      ["accepted", null],
      ["scheduled", null],
      ["queued", null],
      ["sending", null],
      ["sent", null],
      ["delivered", "DELIVERED"],
      ["undelivered", "UNDELIVERABLE"],
      ["failed", "FAILED"],
      ["canceled", "FAILED"],
      ["read", null],
    ]);
  });
});
