import { database } from "../adapters/db/client";
import { optOutPairs, suppressionKeys } from "../adapters/db/outbound";
import { numberOf } from "../domain/compliance/e164";
import type { OutboundJob } from "../domain/outbound/job";
import { SEND_PATH, type QueueRow } from "./sender-queue";

/** A verdict is trusted this long after D1 gave it. */
const VERDICT_MS = 1_000;

/**
 * The suppression list, read for the next due messages at once: one D1 statement for up to
 * SCREEN_BATCH sends, where each send had one of its own — a D1 round trip on the drain loop
 * between a message becoming next and its slot, which set the pace of a fast sender. A verdict
 * is trusted for a second: a STOP that came while a message waited still wins, unless it came
 * within that second of the send (a read per send raced a STOP by its own round trip too).
 */
export class OptOutScreen {
  private verdicts = new Map<string, { blocked: boolean; at: number }>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    /** The object's clock: which heads are due. */
    private readonly now: () => number,
  ) {}

  async suppressed(row: QueueRow): Promise<boolean> {
    let verdict = this.verdicts.get(row.id);
    if (!verdict || Date.now() - verdict.at > VERDICT_MS) {
      await this.screen(row);
      verdict = this.verdicts.get(row.id)!;
    }
    this.verdicts.delete(row.id);
    return verdict.blocked;
  }

  /** Reads the opt-outs of `row` and of the heads due within the next second. */
  private async screen(row: QueueRow): Promise<void> {
    const heads = this.sql.exec<QueueRow>(SEND_PATH.nextHeads, this.now() + VERDICT_MS).toArray();
    const jobs = [row, ...heads.filter((h) => h.id !== row.id && h.payload !== null)].map((r) => {
      const job = JSON.parse(r.payload!) as OutboundJob;
      return { id: r.id, phone: numberOf(job.to), keys: suppressionKeys([job.business, job.from, job.messagingServiceSid]) };
    });
    const found = await optOutPairs(database(this.env.DB), jobs.map((j) => j.phone), jobs.flatMap((j) => j.keys));
    const at = Date.now();
    this.verdicts.clear();
    for (const j of jobs) this.verdicts.set(j.id, { blocked: j.keys.some((k) => found.has(`${j.phone} ${k}`)), at });
  }
}
