import { describe, expect, it } from "vitest";
import { readConfig, requireConfig, senderRate } from "../../src/config";
import { channelOf, isBusinessNumber, isCustomerAddress, numberOf, onChannel } from "../../src/domain/compliance/e164";
import { costOf, resolveSender } from "../../src/domain/outbound/job";
import { cxoneErrorCode, insideWindow, resolveTemplate, templateText, WHATSAPP_WINDOW_MS } from "../../src/domain/whatsapp";
import { AppError } from "../../src/errors";
import { TEST_BINDINGS } from "../support/bindings";

const config = requireConfig(TEST_BINDINGS);
const HX = (n: number) => `HX${"0".repeat(31)}${n}`;

describe("WhatsApp addresses", () => {
  it.each([
    ["whatsapp:+14155550100", true],
    ["+14155550100", true],
    ["whatsapp:14155550100", false],
    ["whatsapp:+0123456789", false],
    ["WhatsApp:+14155550100", false],
    ["whatsapp:+14155550100 ", false],
    ["whatsapp:", false],
    ["messenger:+14155550100", false],
  ])("%s is a customer address: %s", (value, ok) => {
    expect(isCustomerAddress(value)).toBe(ok);
  });

  it("moves a number between channels without ever doubling the prefix", () => {
    expect(onChannel("+14155550100", "whatsapp")).toBe("whatsapp:+14155550100");
    expect(onChannel("whatsapp:+14155550100", "whatsapp")).toBe("whatsapp:+14155550100");
    expect(onChannel("whatsapp:+14155550100", "sms")).toBe("+14155550100");
    expect(numberOf("whatsapp:+14155550100")).toBe("+14155550100");
    expect(channelOf("12345")).toBe("sms");
    expect(isBusinessNumber("whatsapp:+15550007000")).toBe(true);
  });
});

describe("the 24-hour window", () => {
  const wrote = Date.UTC(2026, 11, 1, 9, 0);
  it.each([
    ["at 23:59", 23 * 3600_000 + 59 * 60_000, true],
    ["a millisecond before 24:00", WHATSAPP_WINDOW_MS - 1, true],
    ["at 24:00 exactly", WHATSAPP_WINDOW_MS, false],
    ["at 24:01", 24 * 3600_000 + 60_000, false],
  ])("%s after the customer's last message: open %s", (_at, after, open) => {
    expect(insideWindow(wrote, wrote + after)).toBe(open);
  });

  it("is closed for a customer who never wrote", () => {
    expect(insideWindow(null, wrote)).toBe(false);
  });

  it("says Twilio's 63016 the way the bridge says it, and leaves other codes alone", () => {
    expect(cxoneErrorCode("63016")).toBe("OUTSIDE_WHATSAPP_WINDOW");
    expect(cxoneErrorCode("30003")).toBe("30003");
    expect(cxoneErrorCode(undefined)).toBeUndefined();
  });
});

describe("templates", () => {
  it("resolves a name, or name:language exactly, with the parameters as numbered variables", () => {
    const t = resolveTemplate(config, { name: "flight_update", language: "es", parameters: [{ type: "text", text: "IB31" }, { type: "text", text: "07:05" }] });
    expect(t).toEqual({ name: "flight_update", language: "es", contentSid: HX(2), variables: { "1": "IB31", "2": "07:05" } });
    expect(templateText(t)).toBe("[WhatsApp template flight_update:es] {{1}} IB31 · {{2}} 07:05");
    expect(resolveTemplate(config, { name: "flight_update", parameters: [] }).contentSid).toBe(HX(1));
  });

  it.each([
    [{ name: "gate_change", parameters: [] }, "gate_change"],
    [{ name: "flight_update", language: "fr", parameters: [] }, "flight_update:fr"],
  ])("refuses %o with a 400 naming %s", (request, named) => {
    const attempt = () => resolveTemplate(config, request as Parameters<typeof resolveTemplate>[1]);
    expect(attempt).toThrow(AppError);
    expect(attempt).toThrow(named);
  });
});

describe("WhatsApp senders and buckets", () => {
  it("sends WhatsApp from its own from, else the conversation's WhatsApp number, else WHATSAPP_FROM_NUMBER, never the service", () => {
    const withService = { ...config, TWILIO_MESSAGING_SERVICE_SID: `MG${"5".repeat(32)}` };
    expect(resolveSender(withService, "whatsapp:+15550007001", "whatsapp:+15550007002", "whatsapp")?.key).toBe("whatsapp:+15550007001");
    expect(resolveSender(withService, null, "whatsapp:+15550007002", "whatsapp")?.key).toBe("whatsapp:+15550007002");
    expect(resolveSender(withService, null, "+15550001000", "whatsapp")).toEqual({ key: "whatsapp:+15550007000", from: "whatsapp:+15550007000" });
    expect(resolveSender({ ...config, WHATSAPP_FROM_NUMBER: undefined }, null, "+15550001000", "whatsapp")).toBeUndefined();
    // And an SMS reply never borrows a WhatsApp number the conversation had.
    expect(resolveSender(config, null, "whatsapp:+15550007002", "sms")?.key).toBe(config.TWILIO_FROM_NUMBER);
  });

  it("counts a WhatsApp message as one, however long, and its rate in messages", () => {
    expect(costOf("whatsapp:+14155550100", "é".repeat(1_600))).toEqual({ segments: 1, encoding: "whatsapp" });
    expect(costOf("+14155550100", "ж".repeat(1_600)).segments).toBe(24);
    expect(senderRate(config, "whatsapp:+15550007000")).toBe(20);
    expect(senderRate(config, "+15550001000")).toBe(5);
    const overridden = requireConfig({ ...TEST_BINDINGS, SENDER_MPS_OVERRIDES: JSON.stringify({ "whatsapp:+15550007000": 80 }) });
    expect(senderRate(overridden, "whatsapp:+15550007000")).toBe(80);
  });

  it.each([
    ["WHATSAPP_TEMPLATES", "{not json"],
    ["WHATSAPP_TEMPLATES", JSON.stringify({ flight_update: "not-a-sid" })],
    ["WHATSAPP_TEMPLATES", JSON.stringify({ "Flight Update": HX(1) })],
    ["WHATSAPP_FROM_NUMBER", "+15550007000"],
    ["WHATSAPP_MPS", "0"],
    ["TWILIO_FROM_NUMBER", "whatsapp:+15550001000"],
  ])("names %s = %s as a problem", (name, value) => {
    const { problems } = readConfig({ ...TEST_BINDINGS, [name]: value });
    expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
  });
});
