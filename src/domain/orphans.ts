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
  /** Every orphan whose next try has come. */
  orphans(): Promise<Orphan[]>;
  /** Applies a callback as if it arrived now; "orphan" when its send is still unknown. */
  apply(event: StatusEvent): Promise<string>;
  matched(ids: number[]): Promise<void>;
}

/** Applies the orphans that now have their send, in arrival order; how many did. */
export async function matchOrphans(deps: OrphanDeps): Promise<number> {
  let matched = 0;
  for (const event of await deps.orphans()) {
    if (!isTwilioStatus(event.status)) continue;
    const applied = await deps.apply({ sid: event.messageSid, status: event.status, errorCode: event.errorCode ?? undefined, at: event.receivedAt });
    if (applied !== "orphan") {
      await deps.matched([event.id]);
      matched += 1;
    }
  }
  return matched;
}
