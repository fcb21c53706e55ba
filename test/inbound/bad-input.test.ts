import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signRequest } from "../../src/adapters/twilio/signature";
import { sha256Hex } from "../../src/crypto";
import { TEST_BINDINGS as B } from "../support/bindings";
import { useEmulators } from "../support/emulators";
import { d1Count, inboundFields, messageSid, phone, postInbound, postTwilio, thread } from "../support/inbound";
import { captureLogs, expectIgnored, expectRefusal, expectTwiml, hex32, oversized, OVERSIZED, refused, type Refused, type Variant } from "../support/webhook-fields";

/*
 * Every field of Twilio's two webhooks, one at a time, empty, absent, oversized and with a value of
 * the wrong shape (contract §3): a correctly signed webhook from our account is refused only for its
 * MessageSid/From/To (inbound) or MessageSid (status) — 400 — or its AccountSid — 403. Anything
 * else is taken: 200 with empty TwiML, the text reaches CXone once (the status is applied), and an
 * optional value that does not fit is left out and named, never quoted, in one warn line.
 */

const emu = useEmulators();
const { warned, errors } = captureLogs();

const SERVICE = `MG${hex32("5")}`;
const OTHER_ACCOUNT = `AC${hex32("0")}`;
const MEDIA_URL = `https://api.twilio.com/2010-04-01/Accounts/${B.TWILIO_ACCOUNT_SID}/Messages/MM${hex32("a")}/Media/ME${hex32("b")}`;

type Media = { url: string; contentType: string }[];
const MEDIA: Media = [{ url: MEDIA_URL, contentType: "image/jpeg" }];

// ---------------------------------------------------------------------------------------------
// POST /twilio/inbound
// ---------------------------------------------------------------------------------------------

/** What Twilio posts for an MMS to a number of a Messaging Service: every field it sends. */
function twilioInbound(customer: string): Record<string, string> {
  const sid = messageSid();
  return {
    ToCountry: "US",
    ToState: "CA",
    SmsMessageSid: sid,
    NumMedia: "1",
    ToCity: "BERKELEY",
    FromZip: "94105",
    SmsSid: sid,
    FromState: "CA",
    SmsStatus: "received",
    FromCity: "SAN FRANCISCO",
    Body: "hello",
    FromCountry: "US",
    To: B.TWILIO_FROM_NUMBER,
    MessagingServiceSid: SERVICE,
    ToZip: "94704",
    NumSegments: "1",
    MessageSid: sid,
    AccountSid: B.TWILIO_ACCOUNT_SID,
    From: customer,
    ApiVersion: "2010-04-01",
    MediaUrl0: MEDIA_URL,
    MediaContentType0: "image/jpeg",
  };
}

/** What the customer's one CXone message must carry, and the names a warn line must list. */
interface Taken {
  status: 200;
  text: string;
  media: Media;
  ignored: string[];
  optOut?: "stop" | "start";
}
type Outcome = Taken | Refused;

const taken = (over: Partial<Omit<Taken, "status">> = {}): Taken => ({ status: 200, text: "hello", media: MEDIA, ignored: [], ...over });

/** A field, its oversized value, its values of the wrong shape, and what each variant must get. */
interface FieldSpec {
  field: string;
  oversized: string;
  unexpected: string[];
  outcome: Record<Variant, Outcome | ((value: string) => Outcome)>;
}

const allRefused = (status: 400 | 403, names: string): FieldSpec["outcome"] => ({
  empty: refused(status, names),
  absent: refused(status, names),
  oversized: refused(status, names),
  unexpected: refused(status, names),
});
/** A field the bridge does not read: whatever it holds, the text is taken and nothing is said. */
const notRead = (field: string, unexpected: string[]): FieldSpec => ({
  field,
  oversized: oversized("", "x"),
  unexpected,
  outcome: { empty: taken(), absent: taken(), oversized: taken(), unexpected: taken() },
});
/** An optional field the bridge reads: empty and absent are alike; a value that does not fit is named. */
const optional = (field: string, over: string, unexpected: string[], ignored: string[] = [field]): FieldSpec => ({
  field,
  oversized: over,
  unexpected,
  outcome: { empty: taken(), absent: taken(), oversized: taken({ ignored }), unexpected: taken({ ignored }) },
});

const INBOUND: FieldSpec[] = [
  { field: "MessageSid", oversized: oversized("SM"), unexpected: ["SM123", `MG${hex32("1")}`, `SM${hex32("g")}`, "12345"], outcome: allRefused(400, "MessageSid") },
  notRead("SmsSid", ["not-a-sid", "12345"]),
  notRead("SmsMessageSid", ["not-a-sid"]),
  { field: "AccountSid", oversized: oversized("AC"), unexpected: [OTHER_ACCOUNT, B.TWILIO_ACCOUNT_SID.toUpperCase(), ` ${B.TWILIO_ACCOUNT_SID}`], outcome: allRefused(403, "AccountSid") },
  optional("MessagingServiceSid", oversized("MG"), ["XX", `PN${hex32("3")}`, `MG${hex32("z")}`]),
  {
    field: "From",
    oversized: oversized("+1", "5"),
    unexpected: ["14155551234", "+1 415 555 1234", "whatsapp:+14155551234", "+0123456789", "+123456", "+1234567890123456", "12345"],
    outcome: allRefused(400, "From"),
  },
  { field: "To", oversized: oversized("+1", "5"), unexpected: ["5550001000", "12", "123456789", "+15550001000x", "whatsapp:+15550001000"], outcome: allRefused(400, "To") },
  {
    field: "Body",
    oversized: oversized("", "x"),
    // TwiML in the text must not leak into the answer; a NUL is text like any other.
    unexpected: ['<Response><Message to="+14155550000">hi</Message></Response>', "a\u0000b", '{"text":["not","a","string"]}'],
    outcome: { empty: taken({ text: "" }), absent: taken({ text: "" }), oversized: (v) => taken({ text: v }), unexpected: (v) => taken({ text: v }) },
  },
  optional("NumMedia", "9".repeat(OVERSIZED), ["lots", "-1", "1.5", "11"]),
  optional("NumSegments", "9".repeat(OVERSIZED), ["two", "0", "-3", "1.5"]),
  {
    field: "MediaUrl0",
    oversized: oversized("https://media.example.com/"),
    unexpected: ["javascript:alert(1)", "ftp://media.example.com/a.jpg", "not a url"],
    outcome: {
      // NumMedia says 1 and no usable URL is there: noted under NumMedia, the text still taken.
      empty: taken({ media: [], ignored: ["NumMedia"] }),
      absent: taken({ media: [], ignored: ["NumMedia"] }),
      // Longer than any URL Twilio hands out (2,048 characters at most): left out, named.
      oversized: taken({ media: [], ignored: ["MediaUrl0", "NumMedia"] }),
      unexpected: taken({ media: [], ignored: ["MediaUrl0", "NumMedia"] }),
    },
  },
  {
    field: "MediaContentType0",
    oversized: oversized("image/", "x"),
    unexpected: ["not a media type", "12345"],
    outcome: {
      empty: taken({ media: [{ url: MEDIA_URL, contentType: "application/octet-stream" }] }),
      absent: taken({ media: [{ url: MEDIA_URL, contentType: "application/octet-stream" }] }),
      oversized: taken({ media: [{ url: MEDIA_URL, contentType: "application/octet-stream" }], ignored: ["MediaContentType0"] }),
      // Not checked beyond its length: passed on as Twilio sent it.
      unexpected: (v) => taken({ media: [{ url: MEDIA_URL, contentType: v }] }),
    },
  },
  {
    field: "OptOutType",
    oversized: oversized("", "S"),
    unexpected: ["MAYBE", "12345"],
    // Not a keyword Twilio knows: no opt-out, nothing to say.
    outcome: { empty: taken(), absent: taken(), oversized: taken({ ignored: ["OptOutType"] }), unexpected: taken() },
  },
  notRead("FromCity", ["\u202Eevil", "<script>"]),
  notRead("FromState", ["12"]),
  notRead("FromZip", ["ABCDE-!!"]),
  notRead("FromCountry", ["United States of America"]),
  notRead("ToCity", ["<script>"]),
  notRead("ToState", ["??"]),
  notRead("ToZip", ["-1"]),
  notRead("ToCountry", ["us"]),
  notRead("SmsStatus", ["exploded"]),
  notRead("ApiVersion", ["2099-99-99", "v3"]),
  notRead("FutureTwilioField", ["anything at all"]),
  notRead("__proto__", ['{"polluted":"yes"}']),
];

interface Row {
  name: string;
  fields: (customer: string) => Record<string, string> | string;
  outcome: Outcome;
  /** The values the bridge must never write to its logs. */
  values: string[];
  business?: string;
}

function rowsOf(specs: FieldSpec[], base: (customer: string) => Record<string, string>): Row[] {
  return specs.flatMap(({ field, oversized: big, unexpected, outcome }) => {
    const set = (value: string | undefined) => (customer: string) => {
      const fields = base(customer);
      if (value === undefined) delete fields[field];
      else fields[field] = value;
      return fields;
    };
    const resolve = (o: Outcome | ((v: string) => Outcome), v: string) => (typeof o === "function" ? o(v) : o);
    return [
      { name: `${field} empty`, fields: set(""), outcome: resolve(outcome.empty, ""), values: [] },
      { name: `${field} absent`, fields: set(undefined), outcome: resolve(outcome.absent, ""), values: [] },
      { name: `${field} oversized (${OVERSIZED} chars)`, fields: set(big), outcome: resolve(outcome.oversized, big), values: [big] },
      ...unexpected.map((v) => ({ name: `${field} ${JSON.stringify(v)}`, fields: set(v), outcome: resolve(outcome.unexpected, v), values: [v] })),
    ];
  });
}

/** A form with one field repeated: `extra` appended after the usual fields. */
const repeated = (field: string, extra: string) => (customer: string) => `${new URLSearchParams(twilioInbound(customer))}&${new URLSearchParams({ [field]: extra })}`;

const INBOUND_ROWS: Row[] = [
  ...rowsOf(INBOUND, twilioInbound),
  // A repeated identity field is ambiguous; a repeated optional one is named and its first value taken.
  { name: "MessageSid repeated", fields: repeated("MessageSid", messageSid()), outcome: refused(400, "MessageSid: must appear once"), values: [] },
  { name: "From repeated", fields: repeated("From", "+14155550000"), outcome: refused(400, "From: must appear once"), values: [] },
  { name: "To repeated", fields: repeated("To", "+15550009999"), outcome: refused(400, "To: must appear once"), values: [] },
  { name: "AccountSid repeated", fields: repeated("AccountSid", B.TWILIO_ACCOUNT_SID), outcome: refused(403, "AccountSid"), values: [] },
  { name: "Body repeated", fields: repeated("Body", "second body"), outcome: taken({ ignored: ["Body"] }), values: ["second body"] },
  { name: "NumSegments repeated", fields: repeated("NumSegments", "7"), outcome: taken({ ignored: ["NumSegments"] }), values: [] },
  { name: "MessagingServiceSid repeated", fields: repeated("MessagingServiceSid", `MG${hex32("6")}`), outcome: taken({ ignored: ["MessagingServiceSid"] }), values: [`MG${hex32("6")}`] },
  { name: "MediaUrl0 repeated", fields: repeated("MediaUrl0", "https://media.example.com/other.jpg"), outcome: taken({ ignored: ["MediaUrl0"] }), values: ["https://media.example.com/other.jpg"] },
  { name: "an empty value next to the real one (empty means absent)", fields: (c) => `From=&${new URLSearchParams(twilioInbound(c))}`, outcome: taken(), values: [] },
  // Valid edges of contract §5 "Addresses" and of the body.
  { name: "From with 7 digits (+290 Saint Helena)", fields: () => twilioInbound("+2901234"), outcome: taken(), values: [] },
  { name: "To a short code", fields: (c) => ({ ...twilioInbound(c), To: "12345" }), outcome: taken(), values: [], business: "12345" },
  { name: "To a 7-digit E.164 number", fields: (c) => ({ ...twilioInbound(c), To: "+6831234" }), outcome: taken(), values: [], business: "+6831234" },
  { name: "a Body of 60,000 characters (under the 64 KB request limit)", fields: (c) => ({ ...twilioInbound(c), Body: "y".repeat(60_000) }), outcome: taken({ text: "y".repeat(60_000) }), values: [] },
  { name: "OptOutType STOP", fields: (c) => ({ ...twilioInbound(c), OptOutType: "STOP" }), outcome: taken({ optOut: "stop" }), values: [] },
  { name: "Twilio's minimal SMS form", fields: (c) => inboundFields({ From: c }), outcome: taken({ media: [] }), values: [] },
];

/** The customer a row's form is from (the 7-digit case brings its own). */
const customerOf = (fields: Record<string, string> | string) => (typeof fields === "string" ? new URLSearchParams(fields).getAll("From").find((f) => f !== "") : fields.From);

describe("POST /twilio/inbound: every field empty, absent, oversized, malformed", () => {
  for (const row of INBOUND_ROWS) {
    const { name, outcome } = row;
    it(`${name} → ${outcome.status}`, async () => {
      const fresh = phone();
      const fields = row.fields(fresh);
      const customer = customerOf(fields) ?? fresh;
      const before = { messages: await d1Count("SELECT COUNT(*) AS n FROM messages") };
      const res = await postInbound(fields);
      expect(res.status).toBe(outcome.status);
      if (outcome.status !== 200) {
        await expectRefusal(res, outcome.names, before);
        expect(emu.cxone.state.calls).toEqual({});
        expect(emu.twilio.messages()).toEqual([]);
        expect(warned("inbound.fields_ignored")).toEqual([]);
        // A refused text is a lost text: said loudly, naming the field (403s have their own line).
        if (outcome.status === 400) {
          const loud = errors().filter((line) => line.includes('"inbound.refused"'));
          expect(loud).toHaveLength(1);
          expect(loud[0]).toContain(outcome.names.split(",")[0]!);
        }
        return;
      }
      await expectTwiml(res);
      const sid = typeof fields === "string" ? new URLSearchParams(fields).get("MessageSid")! : fields.MessageSid!;
      // Delivered inside this test: a delivery left running would call the next test's CXone.
      const status = await thread(customer, row.business).deliver();
      expect(status).toMatchObject({ pending: 0, dead: 0 });
      const conversations = emu.cxone.conversationsOf(customer);
      expect(conversations).toHaveLength(1);
      expect(conversations[0]!.properties).toEqual({ business_number: row.business ?? B.TWILIO_FROM_NUMBER });
      const messages = conversations[0]!.messages;
      expect(messages).toHaveLength(1);
      const [message] = messages;
      expect(message!.text).toBe(outcome.text);
      expect(message!.media ?? []).toEqual(outcome.media);
      expect(message!.metadata).toMatchObject({ twilio_message_sid: sid, from: customer, to: row.business ?? B.TWILIO_FROM_NUMBER });
      expect(message!.metadata?.opt_out).toBe(outcome.optOut);
      expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE message_sid = ? AND direction = 'inbound'", sid)).toBe(1);
      expect(emu.twilio.messages()).toEqual([]);
      expectIgnored(warned, "inbound.fields_ignored", outcome.ignored, row.values);
    });
  }
});

describe("POST /twilio/inbound: what is not a Twilio form", () => {
  /** A JSON webhook signed the way Twilio signs JSON: over the URL with bodySHA256, no fields. */
  async function postJson(raw: string, hash?: string) {
    const path = `/twilio/inbound?bodySHA256=${hash ?? (await sha256Hex(raw))}`;
    const signature = await signRequest(B.TWILIO_AUTH_TOKEN, `${B.PUBLIC_BASE_URL}${path}`, new Map());
    return postTwilio(path, raw, { contentType: "application/json", signature });
  }

  /** [case, request, expected status, the field or code the error must name] */
  const cases: [string, () => Promise<Response>, number, string][] = [
    ["a plain-text content type", () => postInbound(inboundFields(), { contentType: "text/plain" }), 415, "unsupported_media_type"],
    ["a multipart content type", () => postInbound(inboundFields(), { contentType: "multipart/form-data; boundary=x" }), 415, "unsupported_media_type"],
    ["a huge body (200,000 characters of Body)", () => postInbound(inboundFields({ Body: "x".repeat(200_000) })), 413, "payload_too_large"],
    ["JSON whose body does not match its bodySHA256", () => postJson('{"MessageSid":"x"}', "00"), 403, "forbidden"],
    ["malformed JSON under a valid bodySHA256 signature", () => postJson("{not json"), 400, "invalid_json"],
    ["a JSON array under a valid signature", () => postJson("[1,2]"), 400, "invalid_body"],
  ];

  for (const [name, request, status, named] of cases) {
    it(`${name} → ${status} JSON, nothing stored, nothing sent`, async () => {
      const before = await d1Count("SELECT COUNT(*) AS n FROM messages");
      const res = await request();
      expect(res.status).toBe(status);
      await expectRefusal(res, named, { messages: before });
      expect(emu.cxone.state.calls).toEqual({});
      expect(emu.twilio.messages()).toEqual([]);
    });
  }

  it("answers other methods and paths with a JSON 404", async () => {
    const res = await exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/twilio/inbound`));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });
});

