import { describe, expect, it } from "vitest";
import { isQuiet, nextAllowed, parseQuietHours } from "../../src/domain/compliance/quiet-hours";
import { timeZoneOf } from "../../src/domain/compliance/time-zones";

const NIGHT = parseQuietHours("21:00-08:00");
const at = (iso: string) => new Date(iso);

describe("the recipient's time zone", () => {
  it.each([
    ["+12125550100", "America/New_York"],
    ["+13105550100", "America/Los_Angeles"],
    ["+13125550100", "America/Chicago"],
    ["+16025550100", "America/Phoenix"],
    ["+19075550100", "America/Anchorage"],
    ["+14165550100", "America/Toronto"],
    ["+447700900123", "Europe/London"],
    ["+33612345678", "Europe/Paris"],
    ["+61412345678", "Australia/Sydney"],
    ["+819012345678", "Asia/Tokyo"],
    ["+35312345678", "Europe/Dublin"],
  ])("%s is in %s", (number, tz) => expect(timeZoneOf(number)).toBe(tz));

  it("does not guess for an unknown area code or country", () => {
    expect(timeZoneOf("+15555550100")).toBeUndefined();
    expect(timeZoneOf("+999123456789")).toBeUndefined();
  });
});

describe("quiet hours 21:00-08:00", () => {
  it.each([
    [20 * 60 + 59, false],
    [21 * 60, true],
    [23 * 60 + 59, true],
    [0, true],
    [7 * 60 + 59, true],
    [8 * 60, false],
    [12 * 60, false],
  ])("local minute %i quiet: %s", (minute, quiet) => expect(isQuiet(NIGHT, minute)).toBe(quiet));

  it("lets a daytime send go now", () => {
    const now = at("2026-06-01T16:00:00Z"); // 12:00 in New York
    expect(nextAllowed(now, "America/New_York", NIGHT)).toEqual(now);
  });

  it("defers across midnight to 08:00 the next local morning", () => {
    // 23:30 EDT on 1 June → 08:00 EDT on 2 June = 12:00Z.
    expect(nextAllowed(at("2026-06-02T03:30:00Z"), "America/New_York", NIGHT).toISOString()).toBe("2026-06-02T12:00:00.000Z");
    // 07:59:30 local → 08:00 the same morning.
    expect(nextAllowed(at("2026-06-02T11:59:30Z"), "America/New_York", NIGHT).toISOString()).toBe("2026-06-02T12:00:00.000Z");
  });

  it("decides by the recipient's zone: the same instant is quiet in New York, allowed in Los Angeles, quiet in London", () => {
    const instant = at("2026-06-02T01:30:00Z"); // 21:30 New York, 18:30 Los Angeles, 02:30 London
    expect(nextAllowed(instant, "America/New_York", NIGHT).toISOString()).toBe("2026-06-02T12:00:00.000Z");
    expect(nextAllowed(instant, "America/Los_Angeles", NIGHT)).toEqual(instant);
    expect(nextAllowed(instant, "Europe/London", NIGHT).toISOString()).toBe("2026-06-02T07:00:00.000Z");
  });

  it("lands on 08:00 local across a daylight-saving change", () => {
    // 8 March 2026: New York springs forward at 02:00. 01:00 EST (06:00Z) → 08:00 EDT = 12:00Z.
    expect(nextAllowed(at("2026-03-08T06:00:00Z"), "America/New_York", NIGHT).toISOString()).toBe("2026-03-08T12:00:00.000Z");
    // 1 November 2026: falls back at 02:00. 23:00 EDT on 31 Oct (03:00Z) → 08:00 EST = 13:00Z.
    expect(nextAllowed(at("2026-11-01T03:00:00Z"), "America/New_York", NIGHT).toISOString()).toBe("2026-11-01T13:00:00.000Z");
  });

  it("handles a window that does not cross midnight", () => {
    const lunch = parseQuietHours("12:00-13:30");
    expect(nextAllowed(at("2026-06-01T16:15:00Z"), "America/New_York", lunch).toISOString()).toBe("2026-06-01T17:30:00.000Z");
    expect(nextAllowed(at("2026-06-01T18:00:00Z"), "America/New_York", lunch).toISOString()).toBe("2026-06-01T18:00:00.000Z");
  });
});
