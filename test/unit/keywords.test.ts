import { describe, expect, it } from "vitest";
import { detectKeyword, keywordFromOptOutType } from "../../src/domain/compliance/keywords";

describe("opt-out keywords", () => {
  it.each(["STOP", "stop", " Stop. ", "stop!", "STOPALL", "Unsubscribe", "cancel", "End", "QUIT", "revoke", "optout", "\tSTOP\n", "¡STOP!", "STOP 🛑"])(
    "%j opts out",
    (body) => expect(detectKeyword(body)).toBe("stop"),
  );
  it.each(["START", "unstop", "Yes", " yes! "])("%j opts back in", (body) => expect(detectKeyword(body)).toBe("start"));
  it.each(["HELP", "info?"])("%j asks for help (passed to CXone like any message)", (body) => expect(detectKeyword(body)).toBe("help"));
  it.each(["stop please", "Don't stop", "STOP STOP", "", "🛑", "s t o p", "stopp", "st0p", "STOP-ALL", "please unsubscribe me"])(
    "%j is an ordinary message",
    (body) => expect(detectKeyword(body)).toBeNull(),
  );
  it("trusts Twilio's OptOutType when Advanced Opt-Out is on", () => {
    expect(keywordFromOptOutType("STOP")).toBe("stop");
    expect(keywordFromOptOutType("START")).toBe("start");
    expect(keywordFromOptOutType(undefined)).toBeNull();
  });
});
