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
