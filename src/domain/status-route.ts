import { log } from "../log";
import type { StatusEvent } from "./status-apply";

export type StatusSource = "callback" | "reconcile" | "orphan";

/** Where a message's statuses are applied: the sender object that sent it (contract §3). */
export interface StatusRouteDeps {
  /** The owner's answer; "unknown" when that object never had the message. */
  toOwner(owner: string, cxoneMessageId: string, event: StatusEvent, source: StatusSource): Promise<string>;
  /** D1's mapping, for a callback without routing keys (a message sent before they existed). */
  ownerOf(sid: string): Promise<{ owner: string; cxoneMessageId: string } | undefined>;
  /** Keeps a callback nobody knows yet for the reconciler (the send may still be committing). */
  orphan(event: StatusEvent): Promise<void>;
}

/**
 * Takes a Twilio status to the sender object that owns the message: by the keys Twilio echoes
 * from the StatusCallback URL (no D1 statement), else by D1's SID mapping. A status nobody knows
 * is an orphan, kept (for a callback) and matched later by the reconciler.
 */
export async function routeStatus(deps: StatusRouteDeps, event: StatusEvent, source: StatusSource, keys?: { owner: string; cxoneMessageId: string }): Promise<string> {
  if (keys) {
    const applied = await deps.toOwner(keys.owner, keys.cxoneMessageId, event, source);
    if (applied !== "unknown") return applied;
  }
  const mapped = await deps.ownerOf(event.sid);
  if (mapped && (mapped.owner !== keys?.owner || mapped.cxoneMessageId !== keys.cxoneMessageId)) {
    const applied = await deps.toOwner(mapped.owner, mapped.cxoneMessageId, event, source);
    if (applied !== "unknown") return applied;
  }
  if (source === "callback") await deps.orphan(event);
  log("info", "status.orphan", { messageSid: event.sid, status: event.status });
  return "orphan";
}
