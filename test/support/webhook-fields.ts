import { afterEach, beforeEach, expect, vi, type MockInstance } from "vitest";
import { d1Count } from "./inbound";

/**
 * Shared by the tables of Twilio's two webhooks (test/inbound/bad-input.test.ts and
 * test/receipts/status-fields.test.ts): the log lines a test wrote, the values each variant of a
 * field takes, and what a refusal and a TwiML answer must look like.
 */

/** Spies on console.warn/console.error for each test of the file that calls it. */
export function captureLogs() {
  const spies: { warn?: MockInstance<typeof console.warn>; error?: MockInstance<typeof console.error> } = {};
  beforeEach(() => {
    spies.warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    spies.error = vi.spyOn(console, "error").mockImplementation(() => undefined);
  });
  afterEach(() => {
    spies.warn?.mockRestore();
    spies.error?.mockRestore();
  });
  /** The bridge's JSON log lines written with console.warn during this test, for one event. */
  const warned = (event: string): { line: string; fields: Record<string, unknown> }[] =>
    (spies.warn?.mock.calls ?? []).flatMap(([first]) => {
      if (typeof first !== "string") return [];
      try {
        const fields = JSON.parse(first) as Record<string, unknown>;
        return fields.event === event ? [{ line: first, fields }] : [];
      } catch {
        return [];
      }
    });
  /** The raw lines written with console.error during this test. */
  const errors = () => (spies.error?.mock.calls ?? []).map(([line]) => String(line));
  return { warned, errors };
}

/** The field names a `*.fields_ignored` reason lists ("Name: problem; Other: problem"). */
const namesIn = (reason: unknown) =>
  String(reason)
    .split("; ")
    .map((part) => part.split(":")[0]!)
    .sort();

/**
 * One `event` line naming exactly `names`, and none of the values that were left out: values of 4+
 * characters are looked for (shorter ones such as "0" or "-1" occur in any timestamp).
 */
export function expectIgnored(warned: ReturnType<typeof captureLogs>["warned"], event: string, names: readonly string[], values: readonly string[]) {
  const lines = warned(event);
  if (names.length === 0) {
    expect(lines.map((l) => l.fields.reason)).toEqual([]);
    return;
  }
  expect(lines).toHaveLength(1);
  const { line, fields } = lines[0]!;
  expect(fields.level).toBe("warn");
  expect(namesIn(fields.reason)).toEqual([...names].sort());
  for (const value of values) if (value.length >= 4) expect(line).not.toContain(value.slice(0, 40));
}

export const OVERSIZED = 5_000;
/** A value of the field's own shape, padded to 5,000 characters (the form stays far below 64 KB). */
export const oversized = (prefix: string, fill = "a") => prefix + fill.repeat(OVERSIZED - prefix.length);
export const hex32 = (c: string) => c.repeat(32);
const TWIML_EMPTY = /^<\?xml version="1\.0" encoding="UTF-8"\?><Response><\/Response>$/;

export interface Refused {
  status: 400 | 403;
  /** What the JSON error must name. */
  names: string;
}
export const refused = (status: 400 | 403, names: string): Refused => ({ status, names });

export type Variant = "empty" | "absent" | "oversized" | "unexpected";

export async function expectRefusal(res: Response, names: string, before: { messages: number; events?: number }) {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: string; message: string };
  expect(body).toEqual({ error: expect.any(String), message: expect.any(String) });
  expect(`${body.error} ${body.message}`).toContain(names);
  expect(await d1Count("SELECT COUNT(*) AS n FROM messages")).toBe(before.messages);
}

export async function expectTwiml(res: Response) {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
  expect(await res.text()).toMatch(TWIML_EMPTY);
}
