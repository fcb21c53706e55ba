import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createTwilioEmulator } from "../../emulators/twilio/app";
import { isE164 } from "../../src/domain/compliance/e164";
import { DFO_BINDINGS as D } from "../support/bindings";
import { bridgeFetch } from "../support/emulators";
import { phone } from "../support/inbound";
import { network } from "../support/network";
import { settle } from "../support/outbound";
import { serveCounted } from "../hostile/harness";
import { anyBody, contentType, hex, jsonTree, urlPart } from "../hostile/arbitraries";
import { ACTION, CHANNEL, expectUntouched, issued, jsonError, lines, MAIN, mark, post, queued, R1, R2, recorder, reply2, seen, state, useDfoHostile } from "./hostile-harness";

/**
 * contract §8, hostile bodies with a GOOD token: the reply callbacks answer 400 (naming the field) or
 * 413 (over 64 KB) with a JSON error, never a 5xx, and nothing is stored, queued or sent; the
 * `dfo.invalid_body` line names the body's keys, never a value. Sender actions ignore the body: 204.
 */
useDfoHostile();
let auth: Record<string, string> = {};
beforeAll(async () => {
  auth = { authorization: `Bearer ${await issued()}` };
});

const LIMIT = 64 * 1024;
const NAMES = ["thread", "idOnExternalPlatform", "messageContent", "type", "payload", "text", "content", "fallbackText", "endUserRecipients", "recipients", "attachments", "url", "friendlyName", "mimeType", "brand", "channel", "id", "message"];
const decoded = (p: string) => {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
};
/** A 1.0 post id that is no phone number, so that no random body can have a recipient. */
const postId = urlPart.filter((p) => !isE164(decoded(p)));
const route = fc.oneof(
  fc.oneof(fc.constant(CHANNEL), urlPart).map((c) => ({ name: "outbound 2.0", path: R2(c) })),
  postId.map((p) => ({ name: "outbound 1.0", path: R1(p) })),
);
/** What the Worker reads (UTF-8, U+FFFD for what is not), and whether it is JSON at all. */
const errorFor = (raw: string | Uint8Array) => {
  const text = new TextDecoder().decode(typeof raw === "string" ? new TextEncoder().encode(raw) : raw);
  try {
    JSON.parse(text);
    return "invalid_request";
  } catch {
    return "invalid_json";
  }
};
const LINE_FIELDS = ["event", "level", "reason", "route", "ts"];

/** Every key path of a JSON value, as the bridge names them: `a.b`, `a[0]`. */
const paths = (v: unknown, prefix = ""): string[] =>
  typeof v !== "object" || v === null
    ? []
    : Object.entries(v).flatMap(([k, x]) => {
        const name = Array.isArray(v) ? `${prefix}[${k}]` : prefix ? `${prefix}.${k}` : k;
        return [name, ...paths(x, name)];
      });

/**
 * A `dfo.invalid_body` line says what is wrong (`problem`: the field and zod's words), then the
 * body's key paths — nothing else. The line is cut at 300 characters: its last name may be cut short.
 */
function expectKeysOnly(line: Record<string, unknown>, body: unknown, problem: RegExp): void {
  expect(Object.keys(line).sort()).toEqual(LINE_FIELDS);
  const reason = String(line.reason);
  const match = /^(.*?); keys: (.*)$/.exec(reason);
  if (!match) return expect(reason.length).toBe(300); // the problem alone filled the line
  expect(match[1]).toMatch(problem);
  const all = paths(body);
  // The line is cut at 300 characters: a long problem can leave no room for a single key.
  if (match[2] === "") return expect(reason.length === 300 ? [] : all).toEqual([]);
  const names = match[2]!.split(", ");
  const last = names.pop()!.replace(/,$/, "");
  for (const n of names) expect(all, n).toContain(n);
  expect(all.some((p) => p.startsWith(last)), last).toBe(true);
}

describe("a reply callback with a good token and a body it cannot use", () => {
  it("answers random bytes, text and JSON, under any content type, 400 (invalid_json or invalid_request) and takes nothing", async () => {
    const body = fc.oneof(anyBody(NAMES), jsonTree(NAMES), fc.constantFrom("", " ", "null", "[]", "{}", '""', "0", "{\"thread\":null}", "\uFEFF{}"));
    await fc.assert(
      fc.asyncProperty(route, body, fc.option(contentType, { nil: undefined }), async (r, raw, type) => {
        const before = await state();
        const from = mark("warn");
        const res = await post(r.path, raw, { ...auth, ...(type === undefined ? {} : { "content-type": type }) });
        expect(res.status).toBe(400);
        expect(await jsonError(res)).toMatchObject({ error: errorFor(raw) });
        await expectUntouched(before);
        const logged = lines("warn", from).filter((l) => l.event === "dfo.invalid_body");
        expect(logged).toHaveLength(1);
        expect(Object.keys(logged[0]!).sort()).toEqual(LINE_FIELDS);
        expect(logged[0]!.route).toBe(r.name);
      }),
      { numRuns: 150 },
    );
  });

  // Every string value carries "§" (no key does): a value in the log line or the answer shows.
  const key = fc.oneof(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-z]{1,8}$/));
  const leaf = fc.oneof(hex(8).map((h) => `§${h}`), fc.constantFrom(null, true, false, 0, 12.5));
  const tree = fc.letrec<{ node: unknown; object: Record<string, unknown>; array: unknown[] }>((tie) => ({
    node: fc.oneof({ depthSize: "small" }, leaf, tie("object"), tie("array")),
    object: fc.dictionary(key, tie("node"), { maxKeys: 6 }),
    array: fc.array(tie("node"), { maxLength: 3 }),
  })).object;

  it("logs the keys of a refused JSON body, never a value, and echoes no value in its answer", async () => {
    await fc.assert(
      fc.asyncProperty(route, tree, async (r, body) => {
        const before = await state();
        const from = mark("warn");
        const res = await post(r.path, JSON.stringify(body), auth);
        expect(res.status).toBe(400);
        expect(JSON.stringify(await jsonError(res))).not.toContain("§");
        await expectUntouched(before);
        const [line, ...more] = lines("warn", from).filter((l) => l.event === "dfo.invalid_body");
        expect(more).toEqual([]);
        expect(JSON.stringify(line)).not.toContain("§");
        // zod's words name a path and a type, never the value found there.
        expectKeysOnly(line!, body, /^([\w.]+: )?[^;§]+(; [\w.]+: [^;§]+)*$/);
      }),
      { numRuns: 60 },
    );
  });
});

interface Valid {
  form: "2.0" | "1.0";
  customer: string;
  body: Record<string, unknown>;
  values: string[];
}
/** A reply as CXone sends it on either route (replies.test.ts's shapes), its values marked. */
const valid = fc
  .record({
    form: fc.constantFrom("2.0" as const, "1.0" as const),
    text: hex(10).map((h) => `§text-${h}`),
    recipients: fc.boolean(),
    attachment: fc.boolean(),
    cxoneId: fc.option(hex(12).map((h) => `§id-${h}`), { nil: undefined }),
    extra: fc.dictionary(fc.stringMatching(/^x[a-z]{1,6}$/), hex(6).map((h) => `§${h}`), { maxKeys: 3 }),
  })
  .map(({ form, text, recipients, attachment, cxoneId, extra }): Valid => {
    const customer = phone();
    const url = `https://cxone.test/dfo/files/${crypto.randomUUID()}.jpg`;
    const body = reply2(customer, text, { ...extra, id: cxoneId, ...(attachment ? { attachments: [{ url, friendlyName: "§photo.jpg", mimeType: "image/jpeg" }] } : {}) });
    if (!recipients) delete body.endUserRecipients;
    if (cxoneId === undefined) delete body.id;
    return { form, customer, body, values: [text, url, customer.slice(1), ...Object.values(extra), ...(cxoneId ? [cxoneId] : [])] };
  });
const pathOf = (v: Valid) => (v.form === "2.0" ? R2() : R1(encodeURIComponent(v.customer)));

/** The fields the bridge needs, for this body: what to take away, and the field the 400 names. */
function required(v: Valid): [string, (string | number)[], string][] {
  const b = v.body;
  return [
    // The older route's path names the thread (the post id): there, `thread` itself may go.
    ...(v.form === "2.0" ? [["thread", ["thread"], "thread.idOnExternalPlatform"] as [string, (string | number)[], string]] : []),
    ["thread.idOnExternalPlatform", ["thread", "idOnExternalPlatform"], "thread.idOnExternalPlatform"],
    // With an attachment, a reply needs no text.
    ...(b.attachments
      ? ([["attachments[0].url", ["attachments", 0, "url"], "attachments.0.url"]] as [string, (string | number)[], string][])
      : ([
          ["messageContent", ["messageContent"], "messageContent.payload.text"],
          ["messageContent.payload", ["messageContent", "payload"], "messageContent.payload.text"],
          ["messageContent.payload.text", ["messageContent", "payload", "text"], "messageContent.payload.text"],
        ] as [string, (string | number)[], string][])),
    ...(b.endUserRecipients ? [["endUserRecipients[0].idOnExternalPlatform", ["endUserRecipients", 0, "idOnExternalPlatform"], "endUserRecipients.0.idOnExternalPlatform"] as [string, (string | number)[], string]] : []),
  ];
}
function without(body: Record<string, unknown>, path: (string | number)[]): Record<string, unknown> {
  const copy = structuredClone(body);
  let at: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
  delete at[path.at(-1)!];
  return copy;
}

describe("a reply callback with a good token and one required field taken away", () => {
  it("control: the same bodies, whole, are taken (200), queued and sent from the channel's number", async () => {
    const twilio = createTwilioEmulator({ accountSid: D.TWILIO_ACCOUNT_SID, authToken: D.TWILIO_AUTH_TOKEN, bridgeUrl: D.PUBLIC_BASE_URL, fetch: bridgeFetch });
    network.use(...recorder(), serveCounted(D.TWILIO_API_BASE, (request) => twilio.app.fetch(request)));
    await fc.assert(
      fc.asyncProperty(valid, async (v) => {
        const before = await state();
        const res = await post(pathOf(v), JSON.stringify(v.body), auth);
        expect(res.status).toBe(200);
        await settle(MAIN);
        expect(await queued()).toBe(before.queued + 1);
        expect(seen.slice(before.seen).filter((s) => s.endsWith("/Messages.json"))).toHaveLength(1);
        expect(twilio.messages().filter((m) => m.to === v.customer)).toHaveLength(1);
      }),
      { numRuns: 6 },
    );
  });

  it("is refused 400 naming the field; nothing queued or sent; the log line has the keys, no value", async () => {
    const cut = valid.chain((v) => fc.constantFrom(...required(v)).map((r) => [v, r] as const));
    await fc.assert(
      fc.asyncProperty(cut, async ([v, [, path, field]]) => {
        const before = await state();
        const from = mark("warn");
        const sent = without(v.body, path);
        const res = await post(pathOf(v), JSON.stringify(sent), auth);
        expect(res.status).toBe(400);
        const answer = await jsonError(res);
        expect(answer.error).toBe("invalid_request");
        expect(answer.message).toContain(field);
        await expectUntouched(before);
        const logged = lines("warn", from).filter((l) => l.event === "dfo.invalid_body");
        expect(logged).toHaveLength(1);
        const line = JSON.stringify(logged[0]);
        for (const value of [...v.values, "§"]) expect(line).not.toContain(value);
        expectKeysOnly(logged[0]!, sent, new RegExp(`^${field.replace(/\./g, "\\.")}: [^;]+$`));
      }),
      { numRuns: 80 },
    );
  });
});

/** A body of `size` bytes: a whole reply padded with a field, or junk; in one piece or streamed. */
function oversized(base: string, pad: string, size: number, junk: boolean): string {
  const bytes = (s: string) => new TextEncoder().encode(s).byteLength;
  if (junk) return base.slice(0, 40).padEnd(size, pad).slice(0, size);
  const shell = base.replace(/^\{/, '{"pad":"",');
  const n = Math.ceil((size - bytes(shell)) / bytes(pad));
  return shell.replace('"pad":""', `"pad":"${pad.repeat(Math.max(0, n))}"`);
}
const stream = (text: string) => {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
      controller.close();
    },
  });
};

describe("bodies over the routes' 64 KB", () => {
  it("are refused 413 on every route, before any parsing: nothing logged about the body, queued or sent", async () => {
    const where = fc.constantFrom("2.0", "1.0", "action");
    const shape = fc.record({ where, pad: fc.constantFrom("x", "é", "😀"), over: fc.integer({ min: 1, max: 40_000 }), junk: fc.boolean(), streamed: fc.boolean(), type: contentType });
    await fc.assert(
      fc.asyncProperty(shape, async ({ where, pad, over, junk, streamed, type }) => {
        const customer = phone();
        const path = where === "2.0" ? R2() : where === "1.0" ? R1(encodeURIComponent(customer)) : ACTION(CHANNEL, encodeURIComponent(customer));
        const text = oversized(JSON.stringify(reply2(customer, "would be sent")), pad, LIMIT + over, junk);
        expect(new TextEncoder().encode(text).byteLength).toBeGreaterThan(LIMIT);
        const before = await state();
        const from = mark("warn");
        const res = await post(path, streamed ? stream(text) : text, { ...auth, "content-type": type });
        expect(res.status).toBe(413);
        expect(await jsonError(res)).toMatchObject({ error: "payload_too_large" });
        await expectUntouched(before);
        expect(lines("warn", from).filter((l) => l.event === "dfo.invalid_body")).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it.each([
    ["exactly 64 KB, in one piece", LIMIT, false, 400],
    ["exactly 64 KB, streamed", LIMIT, true, 400],
    ["64 KB and a byte, in one piece", LIMIT + 1, false, 413],
    ["64 KB and a byte, streamed", LIMIT + 1, true, 413],
  ])("draws the line at the byte: not JSON of %s → %i", async (_name, size, streamed, status) => {
    const before = await state();
    const text = "x".repeat(size);
    const res = await post(R2(), streamed ? stream(text) : text, auth);
    expect(res.status).toBe(status);
    expect(await jsonError(res)).toMatchObject({ error: status === 413 ? "payload_too_large" : "invalid_json" });
    await expectUntouched(before);
  });
});

describe("a sender action with a good token", () => {
  it("is 204 with no body whatever the body, content type, channel or thread, and sends nothing", async () => {
    await fc.assert(
      fc.asyncProperty(urlPart, urlPart, anyBody(["action", "thread", "idOnExternalPlatform"]), contentType, async (channel, thread, raw, type) => {
        const before = await state();
        const res = await post(ACTION(channel, thread), raw, { ...auth, "content-type": type });
        expect(res.status).toBe(204);
        expect(await res.text()).toBe("");
        await expectUntouched(before);
      }),
      { numRuns: 40 },
    );
  });
});
