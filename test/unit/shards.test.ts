import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config";
import { objectRate, parseSenderObject, senderObject, senderObjects, shardCount, shareOf } from "../../src/domain/outbound/shards";

const SERVICE = `MG${"a".repeat(32)}`;
const config = (vars: Record<string, string>) => readConfig({ SENDER_MPS: "1", ...vars }).config;

describe("Messaging Service shards", () => {
  it.each([
    // rate, shards setting → objects
    [40, 4, 4],
    [5, 4, 4],
    [3, 4, 3],
    [1, 4, 1],
    [2.5, 4, 1],
    [100, 1, 1],
    [100, 64, 64],
  ])("a service at %s/s with MESSAGING_SERVICE_SHARDS=%s runs on %s objects", (rate, shards, objects) => {
    const c = config({ SENDER_MPS_OVERRIDES: JSON.stringify({ [SERVICE]: rate }), MESSAGING_SERVICE_SHARDS: String(shards) });
    expect(shardCount(c, SERVICE)).toBe(objects);
    expect(senderObjects(c, SERVICE)).toHaveLength(objects);
    // The shares are whole and add up to the service's rate exactly.
    const shares = senderObjects(c, SERVICE).map((name) => objectRate(c, name));
    expect(shares.reduce((a, b) => a + b, 0)).toBe(rate);
    if (objects > 1) expect(shares.every((q) => Number.isInteger(q) && q >= 1)).toBe(true);
  });

  it("never splits a phone number", () => {
    const c = config({ SENDER_MPS: "30" });
    expect(senderObject(c, "+15550001000", "conv-1")).toBe("+15550001000");
    expect(objectRate(c, "+15550001000")).toBe(30);
  });

  it("puts a conversation on the same shard every time, and spreads conversations evenly", () => {
    const c = config({ SENDER_MPS_OVERRIDES: JSON.stringify({ [SERVICE]: 40 }) });
    expect(senderObject(c, SERVICE, "conv-42")).toBe(senderObject(c, SERVICE, "conv-42"));
    const counts = new Map<string, number>();
    for (let i = 0; i < 4_000; i++) {
      const name = senderObject(c, SERVICE, `conv-${crypto.randomUUID()}`);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(senderObjects(c, SERVICE).sort());
    // 1,000 expected each; six standard deviations (≈ 27) is far outside chance.
    for (const n of counts.values()) expect(Math.abs(n - 1_000)).toBeLessThan(165);
  });

  it("splits ids that count up like random ones, not in turn", () => {
    const c = config({ SENDER_MPS_OVERRIDES: JSON.stringify({ [SERVICE]: 40 }) });
    const names = Array.from({ length: 400 }, (_, i) => senderObject(c, SERVICE, `conv-${i}`));
    // In turn, every run of four would hold each shard once.
    const inTurn = Array.from({ length: 100 }, (_, k) => new Set(names.slice(4 * k, 4 * k + 4)).size === 4).filter(Boolean).length;
    expect(inTurn).toBeLessThan(50);
    expect(new Set(names).size).toBe(4);
  });

  it("reads an object name back as its sender and shard", () => {
    expect(parseSenderObject(`${SERVICE}#3`)).toEqual({ key: SERVICE, shard: 3 });
    expect(parseSenderObject("+15550001000")).toEqual({ key: "+15550001000" });
    expect(shareOf(10, 4, 0) + shareOf(10, 4, 1) + shareOf(10, 4, 2) + shareOf(10, 4, 3)).toBe(10);
  });

  it("refuses a shard count that is not a whole number from 1 to 64", () => {
    for (const bad of ["0", "65", "2.5", "four"]) expect(readConfig({ MESSAGING_SERVICE_SHARDS: bad }).problems.join()).toContain("MESSAGING_SERVICE_SHARDS");
  });
});
