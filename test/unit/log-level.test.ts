import { afterEach, describe, expect, it, vi } from "vitest";
import { log, setLogLevel } from "../../src/log";

describe("LOG_LEVEL", () => {
  afterEach(() => {
    setLogLevel(undefined);
    vi.restoreAllMocks();
  });

  const written = (level: Parameters<typeof setLogLevel>[0]) => {
    setLogLevel(level);
    const lines: string[] = [];
    for (const method of ["log", "warn", "error"] as const) vi.spyOn(console, method).mockImplementation((line: string) => void lines.push(line));
    for (const l of ["debug", "info", "warn", "error"] as const) log(l, `e.${l}`);
    return lines.map((line) => (JSON.parse(line) as { level: string }).level);
  };

  it.each([
    [undefined, ["info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["debug", ["debug", "info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
    ["loud", ["info", "warn", "error"]],
  ])("%s writes %o", (level, levels) => expect(written(level)).toEqual(levels));
});

describe("a route in a log line", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ["/cxone/dfo/1.0/posts/%2B14150700002/messages", "14150700002"],
    ["/admin/opt-outs/+442071838750", "442071838750"],
    ["/cxone/dfo/1.0/channel/chat_main/thread/%2B1%20415%20070%200003/sender-action", "415 070 0003"],
  ])("%s never shows the number in full", (route, digits) => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    log("warn", "http.refused", { route });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(digits);
    expect(lines[0]).not.toContain(digits.replace(/\s/g, ""));
    expect((JSON.parse(lines[0]!) as { route: string }).route).toMatch(/\*\*\*\d{4}/);
  });
});

describe("an id in a log line", () => {
  afterEach(() => vi.restoreAllMocks());

  it("masks a customer's number a DFO conversation id carries, and leaves digits of other ids alone", () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    log("info", "outbound.sent", { conversationId: "chat_main:+14155550100", cxoneMessageId: "out-07c99806-c357-4029-8cb5-9647a1d7994b", messageSid: "SM3dc5dc3fd6f60fdd6ef52fcde71d4fe4" });
    const line = JSON.parse(lines[0]!) as Record<string, string>;
    expect(lines[0]).not.toContain("4155550100");
    expect(line.conversationId).toBe("chat_main:***0100");
    expect(line.cxoneMessageId).toBe("out-07c99806-c357-4029-8cb5-9647a1d7994b");
    expect(line.messageSid).toBe("SM3dc5dc3fd6f60fdd6ef52fcde71d4fe4");
  });
});
