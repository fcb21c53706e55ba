import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { hmacSha256Hex } from "../../src/crypto";
import { TEST_BINDINGS as B } from "./bindings";
import { step } from "./clock";
import type { Emulators } from "./emulators";
import { phone } from "./inbound";
import { d1State } from "../../src/adapters/db/outbound-mirror";

export interface Item {
  id: string;
  conversationId: string;
  to: string;
  body: string;
  from?: string;
  createdTime?: string;
  attachments?: { url: string; contentType?: string }[];
  [key: string]: unknown;
}

let n = 0;
export function outboundItem(over: Partial<Item> = {}): Item {
  n += 1;
  return {
    id: `out-${crypto.randomUUID()}`,
    conversationId: `conv-${crypto.randomUUID()}`,
    to: phone(),
    body: `agent reply ${n}`,
    createdTime: new Date(Date.now() + n).toISOString(),
    ...over,
  };
}

/**
 * A sender number of its own, so a test's rate bucket is not shared with another test. Never a
 * +1555… number: those are the configured ones (TEST_BINDINGS), and "+1555" + "0009" + "000" was
 * once the 500/s FAST sender — a rate test then saw 40 sends in a quarter of a second.
 */
export function senderNumber(): string {
  n += 1;
  return `+1556${String(Date.now() % 10000).padStart(4, "0")}${String(n % 1000).padStart(3, "0")}`;
}

export type PushAuth = "bearer" | "hmac" | "none" | { bearer: string } | { signature: string };

export async function push(item: unknown, auth: PushAuth = "bearer", contentType = "application/json"): Promise<Response> {
  const raw = typeof item === "string" ? item : JSON.stringify(item);
  const headers: Record<string, string> = { "content-type": contentType };
  if (auth === "bearer") headers.authorization = `Bearer ${B.CXONE_WEBHOOK_SECRET}`;
  else if (auth === "hmac") headers["x-signature-256"] = `sha256=${await hmacSha256Hex(B.CXONE_WEBHOOK_SECRET, raw)}`;
  else if (auth !== "none" && "bearer" in auth) headers.authorization = `Bearer ${auth.bearer}`;
  else if (auth !== "none" && "signature" in auth) headers["x-signature-256"] = auth.signature;
  return exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}/cxone/outbound`, { method: "POST", headers, body: raw }));
}

/**
 * A push of a reply CXone knows about (the emulated CXone answers status reports for known
 * message ids only, as the real one does).
 */
export function pusher(emu: Emulators) {
  return (item: Item, auth: PushAuth = "bearer") => {
    emu.cxone.state.messageIds.add(item.id);
    return push(item, auth);
  };
}

export function sender(key: string = B.TWILIO_FROM_NUMBER) {
  return env.SENDER.getByName(key);
}

/**
 * Steps a sender's alarm until its queue is empty — each step is the passage of time to the
 * next slot of the rate bucket, so a rate test runs in milliseconds, deterministically.
 */
export async function settle(key: string = B.TWILIO_FROM_NUMBER, maxSteps = 2_000) {
  const stub = sender(key);
  for (let i = 0; i < maxSteps; i++) {
    const stats = await stub.stats();
    if (stats.queued === 0 && stats.sending === 0) return stats;
    if (!(await step(stub))) await stub.drain();
  }
  // What was left, for a failure that only shows under load.
  const left = await runInDurableObject(stub, (_i, state) =>
    state.storage.sql.exec("SELECT state, attempts, not_before, ready_at, last_error FROM queue WHERE state IN ('queued', 'inflight', 'unknown') LIMIT 5").toArray(),
  );
  const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
  throw new Error(`sender ${key} did not settle in ${maxSteps} steps: ${JSON.stringify(await stub.stats())}, alarm ${alarm === null ? "none" : alarm - Date.now()} ms on, rows ${JSON.stringify(left)}`);
}

/**
 * A sent message's live state as its sender object holds it — the lifecycle lives there, and D1
 * gets it a moment later (src/do/sender-lifecycle.ts): Twilio's status and the state in D1's words.
 */
export async function liveState(cxoneMessageId: string) {
  const row = await env.DB.prepare("SELECT sender FROM messages WHERE cxone_message_id = ?").bind(cxoneMessageId).first<{ sender: string }>();
  const held = row ? await sender(row.sender).inspect(cxoneMessageId) : undefined;
  if (!held) throw new Error(`no sender holds ${cxoneMessageId}`);
  return { s: held.twilio_status, state: d1State(held.state, held.settled), sid: held.sid, carrierRetries: held.carrier_retries };
}

/** Runs a sender's pass now, which ends by writing every changed row to D1 (tests that read D1 afterwards). */
export async function syncToD1(key: string = B.TWILIO_FROM_NUMBER) {
  await sender(key).drain();
}
