import { env, exports } from "cloudflare:workers";
import { parseForm, signRequest } from "../../src/adapters/twilio/signature";
import { threadName } from "../../src/domain/inbound";
import { TEST_BINDINGS as B } from "./bindings";
import { step } from "./clock";

let n = 0;
/** A fresh E.164 number per call, so tests sharing one D1 never see each other's rows. */
export function phone(): string {
  n += 1;
  return `+1415${String(Date.now() % 1000).padStart(3, "0")}${String(n).padStart(4, "0")}`;
}

export function messageSid(): string {
  const hex = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `SM${hex}`;
}

export function inboundFields(over: Record<string, string> = {}): Record<string, string> {
  return {
    MessageSid: messageSid(),
    AccountSid: B.TWILIO_ACCOUNT_SID,
    From: phone(),
    To: B.TWILIO_FROM_NUMBER,
    Body: "hello",
    NumMedia: "0",
    NumSegments: "1",
    ApiVersion: "2010-04-01",
    ...over,
  };
}

/** POSTs a webhook to the Worker, signed like Twilio signs it (unless told otherwise). */
export async function postTwilio(
  path: string,
  fields: Record<string, string> | string,
  opts: { token?: string; signature?: string | null; contentType?: string; signedUrl?: string } = {},
): Promise<Response> {
  const raw = typeof fields === "string" ? fields : new URLSearchParams(fields).toString();
  const signature =
    opts.signature !== undefined ? opts.signature : await signRequest(opts.token ?? B.TWILIO_AUTH_TOKEN, opts.signedUrl ?? `${B.PUBLIC_BASE_URL}${path}`, parseForm(raw));
  const headers: Record<string, string> = { "content-type": opts.contentType ?? "application/x-www-form-urlencoded" };
  if (signature !== null) headers["x-twilio-signature"] = signature;
  return exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}${path}`, { method: "POST", headers, body: raw }));
}

export const postInbound = (fields: Record<string, string> | string, opts?: Parameters<typeof postTwilio>[2]) => postTwilio("/twilio/inbound", fields, opts);

/** The thread's Durable Object, to drive its delivery deterministically. */
export function thread(customer: string, business: string = B.TWILIO_FROM_NUMBER) {
  return env.CONVERSATION.getByName(threadName(customer, business));
}

export async function d1Count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql).bind(...params).first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Time passes for a thread until its next delivery attempt has happened: alarms run one after
 * another (an alarm armed by a new message may come before the retry's) — never by sleeping.
 */
export async function advance(customer: string, business?: string) {
  const stub = thread(customer, business);
  const before = (await stub.status()).head;
  for (let i = 0; i < 10; i++) {
    if (!(await step(stub))) await stub.deliver();
    const now = await stub.status();
    if (!now.head || now.head.sid !== before?.sid || now.head.attempts !== before.attempts) return now;
  }
  throw new Error("no delivery attempt happened after 10 alarms");
}
