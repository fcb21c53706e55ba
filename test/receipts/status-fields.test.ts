import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, postTwilio } from "../support/inbound";
import { liveState, outboundItem, pusher, senderNumber, settle } from "../support/outbound";
import { captureLogs, expectIgnored, expectRefusal, expectTwiml, hex32, oversized, OVERSIZED, refused, type Refused, type Variant } from "../support/webhook-fields";

/*
 * Every field of Twilio's StatusCallback, one at a time, empty, absent, oversized and with a value
 * of the wrong shape (contract §3), for a message the bridge sent: refused only for its MessageSid
 * (400) or its AccountSid (403); a usable status is applied, an unusable one answered 200 and
 * logged; an optional value that does not fit is left out and named, never quoted.
 */

const emu = useEmulators();
const push = pusher(emu);
const { warned } = captureLogs();
const SERVICE = `MG${hex32("5")}`;
const OTHER_ACCOUNT = `AC${hex32("0")}`;

/** A reply sent through Twilio (as in test/receipts/status.test.ts): its CXone id, MessageSid, sender. */
async function sent() {
  const from = senderNumber();
  const item = outboundItem({ from });
  await push(item);
  await settle(from);
  const message = emu.twilio.messages().find((m) => m.to === item.to && m.body === item.body)!;
  return { item, sid: message.sid, from };
}

/** The StatusCallback Twilio posts when that message was not delivered: every field it sends. */
function twilioStatus(m: Awaited<ReturnType<typeof sent>>): Record<string, string> {
  return {
    SmsSid: m.sid,
    SmsStatus: "undelivered",
    MessageStatus: "undelivered",
    ErrorCode: "30003",
    To: m.item.to,
    MessageSid: m.sid,
    AccountSid: B.TWILIO_ACCOUNT_SID,
    From: m.from,
    MessagingServiceSid: SERVICE,
    ApiVersion: "2010-04-01",
  };
}

/** applied: the status reaches D1 and CXone (with this error code); unusable: 200, nothing applied. */
type StatusOutcome =
  | { status: 200; applied: true; errorCode: string | null; ignored: string[] }
  | { status: 200; applied: false; ignored: string[] }
  | Refused;

const applied = (over: { errorCode?: string | null; ignored?: string[] } = {}): StatusOutcome => ({ status: 200, applied: true, errorCode: "30003", ignored: [], ...over });
const unusable = (ignored: string[] = []): StatusOutcome => ({ status: 200, applied: false, ignored });

interface StatusSpec {
  field: string;
  oversized: string;
  unexpected: string[];
  outcome: Record<Variant, StatusOutcome>;
}

const statusNotRead = (field: string, unexpected: string[]): StatusSpec => ({
  field,
  oversized: oversized("", "x"),
  unexpected,
  outcome: { empty: applied(), absent: applied(), oversized: applied(), unexpected: applied() },
});
const statusRefused = (status: 400 | 403, names: string) => ({ empty: refused(status, names), absent: refused(status, names), oversized: refused(status, names), unexpected: refused(status, names) });

const STATUS: StatusSpec[] = [
  { field: "MessageSid", oversized: oversized("SM"), unexpected: ["SM123", `MG${hex32("1")}`, `SM${hex32("g")}`], outcome: statusRefused(400, "MessageSid") },
  {
    field: "MessageStatus",
    oversized: oversized("", "x"),
    unexpected: ["DELIVERED", "exploded", "delivered "],
    outcome: { empty: unusable(), absent: unusable(), oversized: unusable(["MessageStatus"]), unexpected: unusable(["MessageStatus"]) },
  },
  {
    field: "ErrorCode",
    oversized: "3".repeat(OVERSIZED),
    unexpected: ["abcde", "30003x", "-1", "1234567"],
    outcome: {
      empty: applied({ errorCode: null }),
      absent: applied({ errorCode: null }),
      oversized: applied({ errorCode: null, ignored: ["ErrorCode"] }),
      unexpected: applied({ errorCode: null, ignored: ["ErrorCode"] }),
    },
  },
  { field: "AccountSid", oversized: oversized("AC"), unexpected: [OTHER_ACCOUNT, B.TWILIO_ACCOUNT_SID.toUpperCase()], outcome: statusRefused(403, "AccountSid") },
  statusNotRead("SmsSid", ["not-a-sid"]),
  statusNotRead("SmsStatus", ["exploded"]),
  statusNotRead("To", ["whatsapp:+14155550100", "not a number"]),
  statusNotRead("From", ["not a number"]),
  statusNotRead("MessagingServiceSid", ["XX"]),
  statusNotRead("ApiVersion", ["2099-99-99"]),
  statusNotRead("FutureTwilioField", ["anything at all"]),
];

interface StatusRow {
  name: string;
  fields: (m: Awaited<ReturnType<typeof sent>>) => Record<string, string> | string;
  outcome: StatusOutcome;
  values: string[];
}

const STATUS_ROWS: StatusRow[] = [
  ...STATUS.flatMap(({ field, oversized: big, unexpected, outcome }): StatusRow[] => {
    const set = (value: string | undefined) => (m: Awaited<ReturnType<typeof sent>>) => {
      const fields = twilioStatus(m);
      if (value === undefined) delete fields[field];
      else fields[field] = value;
      return fields;
    };
    return [
      { name: `${field} empty`, fields: set(""), outcome: outcome.empty, values: [] },
      { name: `${field} absent`, fields: set(undefined), outcome: outcome.absent, values: [] },
      { name: `${field} oversized (${OVERSIZED} chars)`, fields: set(big), outcome: outcome.oversized, values: [big] },
      ...unexpected.map((v) => ({ name: `${field} ${JSON.stringify(v)}`, fields: set(v), outcome: outcome.unexpected, values: [v] })),
    ];
  }),
  { name: "MessageSid repeated", fields: (m) => `${new URLSearchParams(twilioStatus(m))}&MessageSid=${m.sid}`, outcome: refused(400, "MessageSid: must appear once"), values: [] },
  { name: "AccountSid repeated", fields: (m) => `${new URLSearchParams(twilioStatus(m))}&AccountSid=${B.TWILIO_ACCOUNT_SID}`, outcome: refused(403, "AccountSid"), values: [] },
  { name: "ErrorCode repeated", fields: (m) => `${new URLSearchParams(twilioStatus(m))}&ErrorCode=30005`, outcome: applied({ ignored: ["ErrorCode"] }), values: [] },
];

/** Twilio's status where the lifecycle lives: the message's sender object. */
const twilioStatusOf = async (id: string) => (await liveState(id)).s;
const reportsOf = (id: string) => (emu.cxone.state.reports.get(id) ?? []).map((r) => [r.body.status, r.body.deliveryReceipt.errorCode ?? null]);

describe("POST /twilio/status: every field empty, absent, oversized, malformed, for a message the bridge sent", () => {
  for (const row of STATUS_ROWS) {
    const { name, outcome } = row;
    const label = outcome.status !== 200 ? outcome.status : outcome.applied ? "200, applied" : "200, nothing applied";
    it(`${name} → ${label}`, async () => {
      const m = await sent();
      expect(reportsOf(m.item.id)).toEqual([["SENT", null]]);
      const before = {
        status: await twilioStatusOf(m.item.id),
        messages: await d1Count("SELECT COUNT(*) AS n FROM messages"),
        events: await d1Count("SELECT COUNT(*) AS n FROM status_events"),
        calls: { ...emu.cxone.state.calls },
        sends: emu.twilio.messages().length,
      };
      expect(before.status).not.toBe("undelivered");
      const res = await postTwilio("/twilio/status", row.fields(m));
      expect(res.status).toBe(outcome.status);
      if (outcome.status !== 200) {
        await expectRefusal(res, outcome.names, before);
        expect(await d1Count("SELECT COUNT(*) AS n FROM status_events")).toBe(before.events);
        expect(await twilioStatusOf(m.item.id)).toBe(before.status);
        expect(emu.cxone.state.calls).toEqual(before.calls);
        expect(reportsOf(m.item.id)).toEqual([["SENT", null]]);
        expect(warned("status.fields_ignored")).toEqual([]);
      } else if (outcome.applied) {
        await expectTwiml(res);
        expect(await twilioStatusOf(m.item.id)).toBe("undelivered");
        expect(reportsOf(m.item.id)).toEqual([["SENT", null], ["UNDELIVERABLE", outcome.errorCode]]);
        expect(warned("status.unusable")).toEqual([]);
        expectIgnored(warned, "status.fields_ignored", outcome.ignored, row.values);
      } else {
        await expectTwiml(res);
        expect(await twilioStatusOf(m.item.id)).toBe(before.status);
        expect(await d1Count("SELECT COUNT(*) AS n FROM status_events")).toBe(before.events);
        expect(emu.cxone.state.calls).toEqual(before.calls);
        expect(reportsOf(m.item.id)).toEqual([["SENT", null]]);
        const lines = warned("status.unusable");
        expect(lines).toHaveLength(1);
        expect(lines[0]!.fields).toMatchObject({ level: "warn", messageSid: m.sid });
        for (const value of row.values) expect(lines[0]!.line).not.toContain(value.slice(0, 40));
        expectIgnored(warned, "status.fields_ignored", outcome.ignored, row.values);
      }
      expect(emu.twilio.messages()).toHaveLength(before.sends);
    });
  }
});

