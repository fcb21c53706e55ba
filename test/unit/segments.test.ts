import fc from "fast-check";
import { SegmentedMessage } from "sms-segments-calculator";
import { describe, expect, it } from "vitest";
import { countSegments } from "../../src/domain/compliance/segments";

const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION = "\f^{}\\[~]|€";

describe("segment counting (contract §5)", () => {
  const cases: [string, string, "GSM-7" | "UCS-2", number, number][] = [
    ["empty", "", "GSM-7", 0, 1],
    ["160 GSM characters", "a".repeat(160), "GSM-7", 160, 1],
    ["161 GSM characters", "a".repeat(161), "GSM-7", 161, 2],
    ["306 GSM characters", "a".repeat(306), "GSM-7", 306, 2],
    ["307 GSM characters", "a".repeat(307), "GSM-7", 307, 3],
    ["80 euro signs (two septets each)", "€".repeat(80), "GSM-7", 160, 1],
    ["81 euro signs", "€".repeat(81), "GSM-7", 162, 2],
    ["159 characters and a caret", `${"a".repeat(159)}^`, "GSM-7", 161, 2],
    ["152 characters and a brace straddling the 153 boundary", `${"a".repeat(152)}{${"a".repeat(10)}`, "GSM-7", 164, 2],
    ["every extension character", GSM_EXTENSION, "GSM-7", 20, 1],
    ["the whole basic set", GSM_BASIC, "GSM-7", GSM_BASIC.length, 1],
    ["70 UCS-2 units", "ж".repeat(70), "UCS-2", 70, 1],
    ["71 UCS-2 units", "ж".repeat(71), "UCS-2", 71, 2],
    ["134 UCS-2 units", "ж".repeat(134), "UCS-2", 134, 2],
    ["135 UCS-2 units", "ж".repeat(135), "UCS-2", 135, 3],
    ["35 emoji (70 units)", "😀".repeat(35), "UCS-2", 70, 1],
    ["36 emoji (72 units)", "😀".repeat(36), "UCS-2", 72, 2],
    ["an emoji straddling the 67-unit boundary", `${"ж".repeat(66)}😀${"ж".repeat(10)}`, "UCS-2", 78, 2],
    ["one non-GSM character among GSM text", `${"a".repeat(100)}ç`, "UCS-2", 101, 2],
    ["ç is not GSM (only Ç is)", "ç", "UCS-2", 1, 1],
    ["a GSM text with CRLF line breaks", "line one\r\nline two", "GSM-7", 18, 1],
  ];
  it.each(cases)("%s", (_name, text, encoding, units, segments) => {
    expect(countSegments(text)).toEqual({ encoding, units, segments });
  });

  it("agrees with Twilio's own sms-segments-calculator on random texts", () => {
    const char = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...GSM_BASIC) },
      { weight: 2, arbitrary: fc.constantFrom(...GSM_EXTENSION) },
      { weight: 1, arbitrary: fc.constantFrom("😀", "👍🏽", "ж", "中", "é", "ç", "€", "🇫🇷", "👨‍👩‍👧") },
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 400 }).map((cs) => cs.join("")), (text) => {
        const oracle = new SegmentedMessage(text);
        const ours = countSegments(text);
        expect([ours.encoding, ours.segments]).toEqual([oracle.encodingName, oracle.segmentsCount]);
      }),
      { numRuns: 300 },
    );
  });
});
