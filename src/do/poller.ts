import { DurableObject } from "cloudflare:workers";
import { OutboundItem } from "../adapters/cxone/reply-item";
import { database } from "../adapters/db/client";
import { recordDeadLetter } from "../adapters/db/dead-letters";
import { outboundByCxoneId } from "../adapters/db/outbound";
import { requireConfig } from "../config";
import { openMessagingApi } from "../adapters/cxone/port";
import { pageDeps, refuseOutbound } from "../deps";
import { acceptPage } from "../domain/outbound/accept";
import { asAppError } from "../errors";
import { entryEnv } from "../entry-env";
import { log } from "../log";
import { SerialRunner } from "./runner";
import { Meta } from "./storage";

/** Most pages one tick drains (50 items each), so a huge backlog cannot pin a tick forever. */
const MAX_PAGES = 200;
/** Items of a page handled at once. */
const CONCURRENCY = 10;

export interface PollResult {
  pages: number;
  items: number;
  invalid: number;
  cursor: string | null;
  error?: string;
}

/**
 * The one poller of CXone's outbound feed. The opaque cursor lives here and moves only after
 * every item of a page is durably recorded (a row in D1 and a place in its sender's queue), so
 * a crash mid-page re-reads the page and the duplicates fall away. It never filters by time.
 */
export class PollerDO extends DurableObject<Env> {
  private readonly meta: Meta;
  private readonly runner = new SerialRunner(() => this.pass());
  private last: PollResult = { pages: 0, items: 0, invalid: 0, cursor: null };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, entryEnv(env));
    this.meta = new Meta(ctx.storage.sql);
  }

  /** Drains as many pages as the budget allows; concurrent ticks share one run. */
  async tick(): Promise<PollResult> {
    await this.runner.run();
    return this.last;
  }

  async cursor(): Promise<string | null> {
    return this.meta.get("cursor");
  }

  private async pass(): Promise<void> {
    const config = requireConfig(this.env);
    const cxone = openMessagingApi(this.env);
    const deps = pageDeps(this.env, config);
    const started = Date.now();
    const result: PollResult = { pages: 0, items: 0, invalid: 0, cursor: this.meta.get("cursor") };
    try {
      while (result.pages < MAX_PAGES && Date.now() - started < config.POLL_BUDGET_MS) {
        const page = await cxone.pollMessages(result.cursor);
        if (page.items.length === 0) break;
        const valid: OutboundItem[] = [];
        for (const raw of page.items) {
          const item = OutboundItem.safeParse(raw);
          if (item.success) valid.push(item.data);
          else {
            result.invalid += 1;
            await this.invalidItem(raw, item.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; "), result.cursor);
          }
        }
        await acceptPage(deps, config, valid, CONCURRENCY);
        result.items += page.items.length;
        result.pages += 1;
        if (!page.cursor) break;
        // Only now: every item of the page is recorded.
        this.meta.set("cursor", page.cursor);
        result.cursor = page.cursor;
      }
    } catch (err) {
      result.error = asAppError(err).detail ?? asAppError(err).publicMessage;
      log("warn", "poll.failed", { reason: result.error, count: result.items });
    }
    if (result.items > 0) log("info", "poll.done", { count: result.items, reason: `${result.pages} page(s)` });
    this.last = result;
  }

  /**
   * An item the bridge cannot send: a dead letter, and FAILED to CXone when it has an id. An id the
   * bridge already has (a reply it took, sent or refused before) is only logged: that message has
   * its own state and receipts, which a malformed copy must not touch.
   */
  private async invalidItem(raw: unknown, reason: string, cursor: string | null): Promise<void> {
    const id = typeof raw === "object" && raw !== null && typeof (raw as { id?: unknown }).id === "string" ? (raw as { id: string }).id : undefined;
    const db = database(this.env.DB);
    if (id !== undefined && (await outboundByCxoneId(db, id))) {
      log("warn", "poll.invalid_item", { cxoneMessageId: id, reason: `${reason} (a copy of a reply already taken: left as it is)` });
      return;
    }
    log("warn", "poll.invalid_item", { cxoneMessageId: id ?? null, reason });
    await recordDeadLetter(db, { kind: "outbound", ref: id ?? `poll:${cursor ?? "start"}:${reason.slice(0, 40)}`, reason: `invalid item: ${reason}`, attempts: 0 });
    if (id) await refuseOutbound(this.env, requireConfig(this.env), id, "INVALID_MESSAGE", `invalid message: ${reason}`);
  }
}
