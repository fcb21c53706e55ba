import type { Meta } from "./storage";

export interface BatchStats {
  pending: number;
  launched: number;
  failed: number;
  /** Refused at launch (opted out meanwhile) without a CXone message. */
  refused: number;
}

type Kind = "total" | "launched" | "failed" | "refused";

/**
 * A batch's counts by outcome, kept up to date as its recipients are added and settled. Counted
 * from the items instead, a 100,000-recipient batch read them all once a second (75 ms of
 * SQLite each time, on the thread that runs everything else in local workerd).
 */
export class BatchTally {
  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: Meta,
  ) {}

  stats(): BatchStats {
    const [launched, failed, refused] = [this.get("launched"), this.get("failed"), this.get("refused")];
    return { pending: this.total() - launched - failed - refused, launched, failed, refused };
  }

  /** Every recipient the batch was given. */
  total(): number {
    return this.get("total");
  }

  add(kind: Kind, by = 1): void {
    if (by !== 0) this.meta.set(`tally:${kind}`, String(this.get(kind) + by));
  }

  /** A batch from before the tally is counted from its items once (the object's first start since). */
  ensure(): void {
    if (this.meta.get("tally:total") !== null) return;
    const rows = this.sql
      .exec<{ state: string; hasMessage: number; n: number }>("SELECT state, message_id IS NOT NULL AS hasMessage, COUNT(*) AS n FROM items GROUP BY state, hasMessage")
      .toArray();
    const sum = (match: (r: (typeof rows)[number]) => boolean) => rows.filter(match).reduce((s, r) => s + r.n, 0);
    this.meta.set("tally:total", String(sum(() => true)));
    this.meta.set("tally:launched", String(sum((r) => r.state === "done" && r.hasMessage === 1)));
    this.meta.set("tally:refused", String(sum((r) => r.state === "done" && r.hasMessage === 0)));
    this.meta.set("tally:failed", String(sum((r) => r.state === "failed")));
  }

  private get(kind: Kind): number {
    return Number(this.meta.get(`tally:${kind}`) ?? 0);
  }
}
