import { env } from "cloudflare:workers";
import { http } from "msw";
import { beforeEach, expect, vi, type MockInstance } from "vitest";
import { requireConfig } from "../../src/config";
import { hmacSha256Hex } from "../../src/crypto";
import { senderObjects } from "../../src/domain/outbound/shards";
import { DFO_BINDINGS as D, SERVICE_SID } from "../support/bindings";
import { network } from "../support/network";
import { send, snapshot, useHostileHarness, type Call, type Snapshot } from "../hostile/harness";

/**
 * What the DFO hostile tests (hostile*.test.ts) share: test/hostile's harness (every D1 table's
 * row count, every call leaving the Worker answered 503 and counted, warn/log muted), plus a list
 * of the calls that left for Twilio or CXone by method and path, and the size of every sender's
 * queue — so "nothing queued, nothing sent" is checked where a reply would go.
 */
export const MAIN = "+15550001000";
/** Every sender object a reply could be queued in: the service's are its shards. */
const senders = () => [MAIN, "+15550002000", ...senderObjects(requireConfig(env), SERVICE_SID)];
export const CHANNEL = "chat_main";
export const R2 = (channel = CHANNEL) => `/cxone/dfo/2.0/channel/${channel}/outbound`;
export const R1 = (post: string) => `/cxone/dfo/1.0/posts/${post}/messages`;
export const ACTION = (channel: string, thread: string) => `/cxone/dfo/1.0/channel/${channel}/thread/${thread}/sender-action`;
export const TOKEN = "/cxone/dfo/token";

/** Calls that left the Worker for Twilio or CXone, as "METHOD /path"; it answers nothing itself. */
export const seen: string[] = [];
export const recorder = () =>
  [D.TWILIO_API_BASE, D.CXONE_API_BASE].map((origin) =>
    http.all(`${origin}/*`, ({ request }) => {
      seen.push(`${request.method} ${new URL(request.url).pathname}`);
    }),
  );

// workerd's console hands back its own functions on every read, so the spies are kept here.
const spies: Partial<Record<"warn" | "log", MockInstance>> = {};

export function useDfoHostile(): void {
  useHostileHarness();
  beforeEach(() => {
    seen.length = 0;
    network.use(...recorder());
    // On top of the harness's muting spies: these record what goes through to them.
    spies.warn = vi.spyOn(console, "warn");
    spies.log = vi.spyOn(console, "log");
  });
}

/** Every job a sender has ever held, in any state. */
export async function queued(): Promise<number> {
  const all = await Promise.all(senders().map((s) => env.SENDER.getByName(s).stats()));
  return all.reduce((n, s) => n + s.queued + s.sending + s.done + s.failed + s.dead, 0);
}

export interface State {
  snap: Snapshot;
  queued: number;
  seen: number;
}
export const state = async (): Promise<State> => ({ snap: await snapshot(), queued: await queued(), seen: seen.length });

/** No row anywhere in D1, no job in any sender's queue, no call to Twilio (Messages.json) or CXone. */
export async function expectUntouched(before: State): Promise<void> {
  expect(seen.slice(before.seen), "calls to Twilio or CXone").toEqual([]);
  expect(await snapshot()).toEqual(before.snap);
  expect(await queued(), "jobs in the senders' queues").toBe(before.queued);
}

/** A JSON error answer `{error, message}`: the body as read. */
export async function jsonError(res: Response): Promise<{ error: string; message: string }> {
  const text = await res.text();
  expect(res.status, `a client error, never a 5xx; body: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: string; message: string };
  expect(body).toEqual({ error: expect.any(String), message: expect.any(String) });
  return body;
}

export const post = (path: string, body: Call["body"], headers: Record<string, string> = {}) =>
  send({ method: "POST", path, headers: { "content-type": "application/json", ...headers }, body });

export const CREDS = { grant_type: "client_credentials", client_id: D.CXONE_BYOC_CLIENT_ID, client_secret: D.CXONE_BYOC_CLIENT_SECRET };

/** A bearer token from the bridge's own token endpoint (at the Date the test sets, if any). */
export async function issued(): Promise<string> {
  const res = await post(TOKEN, JSON.stringify(CREDS));
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

export const b64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
/** The key the bridge signs its tokens with (dfo-auth.ts): bound to the BYOC secret. */
export const RIGHT_KEY = `byoc-token:${D.CXONE_BYOC_CLIENT_SECRET}`;
/** A token of the bridge's shape: base64url(JSON claims) "." hex HMAC-SHA256 under `key`. */
export async function forge(claims: unknown, key = RIGHT_KEY, raw?: string): Promise<string> {
  const payload = raw ?? b64url(JSON.stringify(claims));
  return `${payload}.${await hmacSha256Hex(key, payload)}`;
}
export const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** A reply CXone's 2.0 callback would send (as the DFO emulator's agent side does). */
export function reply2(customer: string, text: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    brand: { id: 1234 },
    channel: { id: CHANNEL },
    thread: { idOnExternalPlatform: customer },
    messageContent: { type: "TEXT", payload: { text } },
    endUserRecipients: [{ idOnExternalPlatform: customer, name: customer, isPrimary: true, isPrivate: false }],
    authorUser: { id: 1, firstName: "Agent", surname: "Smith" },
    id: crypto.randomUUID(),
    createdAtWithMilliseconds: new Date().toISOString(),
    ...over,
  };
}

/** The lines the Worker wrote at `level` since `from` (the harness's spies hold them), parsed. */
export function lines(level: "warn" | "log", from = 0): Record<string, unknown>[] {
  return spies[level]!.mock.calls.slice(from).map(([l]) => JSON.parse(String(l)) as Record<string, unknown>);
}
export const mark = (level: "warn" | "log") => spies[level]!.mock.calls.length;
