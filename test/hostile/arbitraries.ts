import fc from "fast-check";
import { isE164 } from "../../src/domain/compliance/e164";

const charOf = (chars: string) => fc.constantFrom(...chars);
export const digits = (min: number, max: number) => fc.string({ unit: charOf("0123456789"), minLength: min, maxLength: max });
export const hex = (n: number) => fc.string({ unit: charOf("0123456789abcdef"), minLength: n, maxLength: n });

/** ASCII only: workerd accepts Latin-1 header values but prints a warning for each non-ASCII one. */
export const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });

/** Text with lone surrogates and every plane in it. */
export const anyText = (maxLength = 30) => fc.string({ unit: "binary", maxLength });

export const e164 = fc.tuple(fc.integer({ min: 1, max: 9 }), digits(7, 14)).map(([cc, rest]) => `+${cc}${rest}`);
export const sid = (prefix: string) => hex(32).map((h) => `${prefix}${h}`);
export const drop = fc.constant(undefined);
export const tooLong = (max: number) => fc.constantFrom("x".repeat(max + 1), "é".repeat(max + 1));

/** Near misses first (they reach the deepest checks), then anything; never an E.164 number. */
export const notE164 = fc
  .oneof(
    fc.constantFrom("", "+", "14155550100", "+0123456789", "+1234567", "+1234567890123456", "+1 415 555 0100", "whatsapp:+14155550100", "+14155550100\n", "＋14155550100", "+١٤١٥٥٥٥٠١٠٠", "+14155550100;ext=1"),
    anyText(),
  )
  .filter((s) => !isE164(s));

export const notMatching = (re: RegExp, near: string[]) => fc.oneof(fc.constantFrom(...near), anyText()).filter((s) => !re.test(s));

/** Keys that a careless merge, a qs-style parser or `obj[key] = value` turns into a prototype write. */
export const pollutionKey = fc.constantFrom(
  "__proto__",
  "constructor",
  "prototype",
  "__proto__[polluted]",
  "constructor[prototype][polluted]",
  "constructor.prototype.polluted",
  "__defineGetter__",
  "toString",
  "hasOwnProperty",
);

/**
 * JSON values as raw text, so that what JSON.stringify would never write (duplicate keys, a
 * literal "__proto__" key, 1e309, lone surrogate escapes) can be sent. No valid E.164 number
 * appears: a random body must never become a message someone would send.
 */
export const jsonLeaf = fc.oneof(
  fc.constantFrom("null", "true", "false", "0", "-1", "1.5", "1e309", "-1e309", "9007199254740993", "[]", "{}", '""', '"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"'),
  fc.constantFrom('{"polluted":"yes"}', '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":"yes"}}}'),
  anyText().map((s) => JSON.stringify(s)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  notE164.map((s) => JSON.stringify(s)),
);

export type Pairs = [string, string][];

export const objectText = (pairs: Pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
export const formText = (pairs: Pairs) => new URLSearchParams(pairs).toString();
export const quoted = (a: fc.Arbitrary<string>) => a.map((s) => JSON.stringify(s));

/** Random JSON documents whose keys are mostly `names` a route reads, or pollution keys. */
export function jsonTree(names: readonly string[]): fc.Arbitrary<string> {
  const key = fc.oneof(pollutionKey, anyText(8), ...(names.length > 0 ? [fc.constantFrom(...names)] : []));
  const tree = fc.letrec<{ node: string; object: string; array: string }>((tie) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, jsonLeaf, tie("object"), tie("array")),
    object: fc.array(fc.tuple(key, tie("node")), { maxLength: 6 }).map(objectText),
    array: fc.array(tie("node"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
  }));
  return fc.oneof(tree.object, tree.node);
}

/** Form bodies over a small key set, so that repeated keys are common. */
export function formTree(names: readonly string[]): fc.Arbitrary<string> {
  const key = fc.oneof(pollutionKey, anyText(8), ...(names.length > 0 ? [fc.constantFrom(...names)] : []));
  return fc.array(fc.tuple(key, anyText()), { maxLength: 8 }).map(formText);
}

/** Bytes that are not UTF-8: stray continuations, overlongs, surrogates, truncations, 0xFF. */
export const invalidUtf8 = fc
  .tuple(
    fc.constantFrom([0x80], [0xbf], [0xc0, 0x80], [0xc3], [0xed, 0xa0, 0x80], [0xef, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xfe], [0xff]),
    fc.uint8Array({ maxLength: 40 }),
  )
  .map(([bad, rest]) => Uint8Array.from([...rest.slice(0, rest.length >> 1), ...bad, ...rest.slice(rest.length >> 1)]));

/** Whatever a client may send, for a route that reads `names`. */
export const anyBody = (names: readonly string[]): fc.Arbitrary<string | Uint8Array> =>
  fc.oneof(anyText(200), fc.uint8Array({ maxLength: 200 }), invalidUtf8, fc.json(), jsonTree(names), formTree(names));

const MEDIA_TYPES = [
  "application/x-www-form-urlencoded",
  "application/json",
  "APPLICATION/JSON",
  "Application/X-WWW-Form-Urlencoded",
  "application/jsonp",
  "application/json-seq",
  "application/x-www-form-urlencoded-plus",
  "text/plain",
  "text/xml",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "*/*",
  "",
];
const MEDIA_PARAMS = ["", "; charset=utf-8", "; charset=UTF-16LE", "; charset=iso-8859-1", ';charset="utf-8"', "; charset=", ";;", "; boundary=--x"];
export const contentType = fc.oneof(fc.tuple(fc.constantFrom(...MEDIA_TYPES), fc.constantFrom(...MEDIA_PARAMS)).map(([t, p]) => t + p), headerText);
export const formType = fc.constantFrom(...MEDIA_PARAMS).map((p) => `application/x-www-form-urlencoded${p}`);

/** What the route compares: the media type of the header as the Worker receives it (trimmed). */
export const mediaTypeOf = (header: string | undefined) => (header ?? "").trim().split(";")[0]!.trim().toLowerCase();

const percentBytes = fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, "0").toUpperCase()}`).join(""));

/**
 * A path segment or query value: numbers every parser reads differently, percent garbage, raw
 * bytes, plausible ids. Never a dot segment, which would move the request to another route.
 */
export const urlPart = fc
  .oneof(
    fc.constantFrom("0", "-1", "1.5", "1e3", "1e400", "9007199254740993", "0x10", "+1", " 1", "NaN", "Infinity", "*", "null", "__proto__", "constructor"),
    fc.constantFrom("%", "%zz", "%E0%A4%A", "%00", "%2F", "%2F..%2F", "%F0%9F%98%80", "%2B14155550100", "x".repeat(5000)),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }).map(encodeURIComponent),
    percentBytes,
    e164.map(encodeURIComponent),
    sid("MG"),
  )
  .filter((p) => !/^(\.|%2e){1,2}$/i.test(p));

/** A query string with repeated and pollution keys. */
export const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom("limit", "business", "bodySHA256", "__proto__", "a"), percentBytes), urlPart), { maxLength: 4 })
  .map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`));

export const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "PURGE", "QUERY", "patch", "delete"] as const;

/** The header value `hasBearer` accepts: `Bearer`, whitespace, the secret (trimmed, case-blind scheme). */
const isBearerOf = (header: string, secret: string) => /^Bearer\s+(.+)$/i.exec(header.trim())?.[1]?.trim() === secret;

/** Authorization headers that are not `Bearer <secret>`: near misses, other secrets, other schemes. */
export function wrongAuthorization(secret: string, otherSecrets: readonly string[]): fc.Arbitrary<string> {
  const token = fc.oneof(fc.constantFrom(secret.slice(0, -1), `${secret}x`, secret.toUpperCase(), `x${secret}`, ...otherSecrets, ""), headerText);
  return fc
    .oneof(
      token.map((t) => `Bearer ${t}`),
      token.map((t) => `bearer ${t}`),
      fc.constantFrom(`Basic ${btoa(`admin:${secret}`)}`, `Token ${secret}`, secret, `Bearer${secret}`, `Bearer:${secret}`, `${secret} Bearer`, "Bearer", `Bearer "${secret}"`),
      fc.constant(`Bearer ${secret}, Bearer ${secret}`),
      headerText,
    )
    .filter((h) => !isBearerOf(h, secret));
}

/**
 * A template of a valid request body and, per field, values that make it invalid for sure.
 * undefined leaves the field out, so it may break only a field `valid` has: leaving out an
 * optional one would not. Values are what the body format carries: form values or raw JSON.
 */
export interface Template {
  valid: Record<string, fc.Arbitrary<string>>;
  breakers: Record<string, fc.Arbitrary<string | undefined>>;
}

export const validPairs = (t: Template): fc.Arbitrary<Pairs> => fc.record(t.valid).map((r) => Object.entries(r));

/**
 * A valid body with at least one field broken, plus noise that cannot repair it: copies of the
 * intact fields first (JSON keeps the last one, a form makes an array of them), then pollution
 * keys and unknown fields whose names the template does not use.
 */
export function broken(t: Template, noiseValue: fc.Arbitrary<string>, { foreignKeys = true } = {}): fc.Arbitrary<Pairs> {
  const used = (k: string) => Object.hasOwn(t.valid, k) || Object.hasOwn(t.breakers, k);
  const noiseKey = fc.oneof(pollutionKey, anyText(10)).filter((k) => !used(k));
  return fc
    .record({
      base: fc.record(t.valid),
      bad: fc.subarray(Object.keys(t.breakers), { minLength: 1 }).chain((keys) => fc.tuple(...keys.map((k) => t.breakers[k]!.map((v): [string, string | undefined] => [k, v])))),
      copies: fc.array(fc.tuple(fc.constantFrom(...Object.keys(t.valid)), noiseValue), { maxLength: 2 }),
      noise: fc.array(fc.tuple(noiseKey, noiseValue), { maxLength: foreignKeys ? 3 : 0 }),
    })
    .map(({ base, bad, copies, noise }) => {
      const breaks = new Map(bad);
      const fields: Pairs = [...Object.entries(base).filter(([k]) => !breaks.has(k))];
      for (const [k, v] of breaks) if (v !== undefined) fields.push([k, v]);
      return [...copies.filter(([k]) => !breaks.has(k)), ...fields, ...noise];
    });
}

/** The same template for a JSON body: every value as JSON text, plus breakers only JSON can carry. */
export function asJson(t: Template, typed: Record<string, fc.Arbitrary<string>>): Template {
  const quote = (a: fc.Arbitrary<string | undefined>) => a.map((v) => (v === undefined ? v : JSON.stringify(v)));
  const breakers = Object.fromEntries(Object.entries(t.breakers).map(([k, a]) => [k, typed[k] ? fc.oneof(quote(a), typed[k]!) : quote(a)]));
  return { valid: Object.fromEntries(Object.entries(t.valid).map(([k, a]) => [k, a.map((v) => JSON.stringify(v))])), breakers };
}

/** Values of the wrong JSON type for a field that wants a string. */
export const notAString = fc.constantFrom("null", "0", "1e309", "true", "[]", "{}", '["x"]', '{"__proto__":{"polluted":"yes"}}');
