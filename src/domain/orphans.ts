import { isTwilioStatus } from "./status";
import type { StatusEvent } from "./status-apply";

/** A status callback that arrived before its send was recorded, as it was kept. */
export interface Orphan {
  id: number;
  messageSid: string;
  status: string;
  errorCode: string | null;
  receivedAt: number;
}

export interface OrphanDeps {
  /** One SID's orphans (its send has just been recorded), or every orphan whose next try has come. */
  orphans(which: { sid: string } | { now: number }): Promise<Orphan[]>;
  /** Applies a callback as if it arrived now; "orphan" when its send is still unknown. */
  apply(event: StatusEvent): Promise<string>;
  matched(ids: number[]): Promise<void>;
}

/** Applies the orphans that now have their send, in arrival order; how many did. */
export async function matchOrphans(deps: OrphanDeps, which: { sid: string } | { now: number }): Promise<number> {
  let matched = 0;
  for (const event of await deps.orphans(which)) {
    if (!isTwilioStatus(event.status)) continue;
    const applied = await deps.apply({ sid: event.messageSid, status: event.status, errorCode: event.errorCode ?? undefined, at: event.receivedAt });
    if (applied !== "orphan") {
      await deps.matched([event.id]);
      matched += 1;
    }
  }
  return matched;
}
