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
  /** The SMS feed's cursor. */
  cursor: string | null;
  /** The WhatsApp feed's (contract §9): a feed of its own, with its own cursor. */
  whatsappCursor: string | null;
  error?: string;
}

type Feed = "SMS" | "WHATSAPP";
/** Where each feed's cursor is kept ("cursor" is the SMS feed's from before WhatsApp). */
const CURSOR_KEY: Record<Feed, string> = { SMS: "cursor", WHATSAPP: "cursor:whatsapp" };

/**
 * The one poller of CXone's outbound feed. The opaque cursor lives here and moves only after
 * every item of a page is durably recorded (a row in D1 and a place in its sender's queue), so
 * a crash mid-page re-reads the page and the duplicates fall away. It never filters by time.
 */
export class PollerDO extends DurableObject<Env> {
  private readonly meta: Meta;
  private readonly runner = new SerialRunner(() => this.pass());
  private last: PollResult = { pages: 0, items: 0, invalid: 0, cursor: null, whatsappCursor: null };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, entryEnv(env));
    this.meta = new Meta(ctx.storage.sql);
  }

  /** Drains as many pages as the budget allows; concurrent ticks share one run. */
  async tick(): Promise<PollResult> {
    await this.runner.run();
    return this.last;
  }

  async cursor(feed: Feed = "SMS"): Promise<string | null> {
    return this.meta.get(CURSOR_KEY[feed]);
  }

  private async pass(): Promise<void> {
    const started = Date.now();
    const result: PollResult = { pages: 0, items: 0, invalid: 0, cursor: null, whatsappCursor: null };
    // One feed failing (or busy) does not hold the other back: each has its own cursor and budget share.
    for (const feed of ["SMS", "WHATSAPP"] as const) await this.drainFeed(feed, result, started);
    result.cursor = this.meta.get(CURSOR_KEY.SMS);
    result.whatsappCursor = this.meta.get(CURSOR_KEY.WHATSAPP);
    if (result.items > 0) log("info", "poll.done", { count: result.items, reason: `${result.pages} page(s)` });
    this.last = result;
  }

  private async drainFeed(feed: Feed, result: PollResult, started: number): Promise<void> {
    const config = requireConfig(this.env);
    const cxone = openMessagingApi(this.env);
    const deps = pageDeps(this.env, config);
    let cursor = this.meta.get(CURSOR_KEY[feed]);
    // The SMS feed may use the whole budget; WhatsApp always gets at least its first page.
    const deadline = started + config.POLL_BUDGET_MS;
    let pages = 0;
    try {
      while (pages < MAX_PAGES && (pages === 0 || Date.now() < deadline)) {
        const page = await cxone.pollMessages(feed, cursor);
        if (page.items.length === 0) break;
        const valid: OutboundItem[] = [];
        for (const raw of page.items) {
          const item = OutboundItem.safeParse(raw);
          if (item.success) valid.push(item.data);
          else {
            result.invalid += 1;
            await this.invalidItem(raw, item.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; "), cursor);
          }
        }
        await acceptPage(deps, config, valid, CONCURRENCY);
        result.items += page.items.length;
        result.pages += 1;
        pages += 1;
        if (!page.cursor) break;
        // Only now: every item of the page is recorded.
        this.meta.set(CURSOR_KEY[feed], page.cursor);
        cursor = page.cursor;
      }
    } catch (err) {
      const reason = asAppError(err).detail ?? asAppError(err).publicMessage;
      result.error = result.error ? `${result.error}; ${feed}: ${reason}` : reason;
      log("warn", "poll.failed", { reason, kind: feed, count: result.items });
    }
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
