import type { Ready } from "../../config";
import type { OutboundItem } from "../../adapters/cxone/reply-item";
import type { NewOutbound, PageLookup } from "../../adapters/db/outbound";
import { log } from "../../log";
import { channelOf } from "../compliance/e164";
import { costOf, createdInstant, jobFor, resolveSender, type OutboundJob } from "./job";
import { senderObject } from "./shards";

/** What accepting an agent reply needs from the outside world. */
export interface AcceptDeps {
  businessNumberOf(conversationId: string): Promise<string | null | undefined>;
  /** Inserts the message row (created at `now`); false when the CXone id is already known. */
  claim(row: NewOutbound, now: number): Promise<boolean>;
  existing(cxoneMessageId: string): Promise<{ state: string; sender: string | null; createdAt: number; cxoneCreatedAt: string | null } | undefined>;
  isSuppressed(phone: string, businesses: (string | null | undefined)[]): Promise<boolean>;
  /** Fails a message before it is sent and tells CXone (FAILED with the code). */
  refuse(cxoneMessageId: string, code: string, message: string): Promise<void>;
  /** Claims the row as failed and tells CXone, in one step; false when the CXone id is already known. */
  claimRefused(row: NewOutbound, now: number, code: string, message: string): Promise<boolean>;
  enqueue(sender: string, job: OutboundJob): Promise<void>;
}

/** The poller's page and a batch's group: the same, with D1's reads and claims and each queue's share made for all at once. */
export interface PageDeps extends AcceptDeps {
  lookupPage(conversationIds: string[], cxoneIds: string[]): Promise<PageLookup>;
  /** Inserts the rows; the CXone ids this call claimed. */
  claimMany(rows: NewOutbound[], now: number): Promise<Set<string>>;
  enqueueMany(sender: string, jobs: OutboundJob[]): Promise<void>;
}

export interface Accepted {
  duplicate: boolean;
  state: "queued" | "failed" | string;
  /**
   * The instant the reply's conversation is ordered by (its createdTime, else when the bridge first
   * took it); a repeat's answer is the first one's. DFO tells CXone this in its answer.
   */
  createdAt: number;
}

type Extra = Pick<OutboundJob, "notBefore" | "batchId" | "proactive" | "template">;
export interface Entry {
  item: OutboundItem;
  extra: Extra;
}
type Existing = Awaited<ReturnType<AcceptDeps["existing"]>>;

/** Who sends a reply, which object queues it, and the row that claims its CXone id. */
function planFor(config: Ready, item: OutboundItem, business: string | null | undefined, extra: Extra, now: number) {
  const sender = resolveSender(config, item.from, business, channelOf(item.to));
  // The object that queues it: the sender itself, or the conversation's shard of a Messaging Service.
  const queue = sender && senderObject(config, sender.key, item.conversationId);
  const { segments, encoding } = costOf(item.to, item.body);
  const row: NewOutbound = {
    cxoneMessageId: item.id,
    conversationId: item.conversationId,
    customer: item.to,
    sender: queue ?? null,
    segments,
    encoding,
    cxoneCreatedAt: item.createdTime,
    batchId: extra.batchId,
    sendAfter: extra.notBefore,
    checkAt: Math.max(now, extra.notBefore ?? 0) + config.RECONCILE_AFTER_MINUTES * 60_000,
  };
  return { item, business, sender, queue, segments, encoding, row, orderedAt: createdInstant(item.createdTime) ?? now };
}
type Plan = ReturnType<typeof planFor>;

/**
 * Takes an agent reply from a push or the poll into the send queue, exactly once: the CXone id
 * claims a unique row first, and only the claimer queues it. A duplicate whose first copy never
 * reached its queue (a crash between the two steps) is queued again — the queue ignores ids it has.
 */
export async function acceptOutbound(deps: AcceptDeps, config: Ready, item: OutboundItem, source: "push" | "poll" | "proactive", extra: Extra = {}): Promise<Accepted> {
  const now = Date.now();
  const plan = planFor(config, item, await deps.businessNumberOf(item.conversationId), extra, now);
  // Opted out: claimed as failed in one step. A row claimed queued and failed a moment later was
  // seen queued by a second copy meanwhile, queued by it too, and refused (reported) twice.
  if (plan.sender && (await deps.isSuppressed(item.to, [plan.business, plan.sender.from, plan.sender.messagingServiceSid]))) {
    if (!(await deps.claimRefused(plan.row, now, "OPTED_OUT", "the recipient opted out"))) return duplicate(deps, plan, await deps.existing(item.id), source, extra);
    log("info", "outbound.refused", { cxoneMessageId: item.id, conversationId: item.conversationId, reason: "OPTED_OUT", to: item.to });
    return { duplicate: false, state: "failed", createdAt: plan.orderedAt };
  }
  if (!(await deps.claim(plan.row, now))) return duplicate(deps, plan, await deps.existing(item.id), source, extra);
  return claimed(deps, plan, source, extra);
}

/**
 * A page of polled replies in two D1 statements: one reads the page's conversations and the ids
 * already claimed, one claims the rest. The opt-out check is left to the sender, which makes it
 * for every message anyway right before sending it (a STOP that came while it waited must win).
 */
export async function acceptPage(deps: PageDeps, config: Ready, items: OutboundItem[], concurrency: number): Promise<void> {
  await acceptMany(deps, config, items.map((item) => ({ item, extra: {} })), "poll", concurrency);
}

/**
 * Many replies at once (a polled page, a batch's group of alerts): one D1 read, one claim
 * statement, and one call into each queue for the replies it claimed. A reply claimed before is
 * judged alone, as a duplicate. Answers in the order of `entries`; a repeated id gets its first's.
 */
export async function acceptMany(deps: PageDeps, config: Ready, entries: readonly Entry[], source: "poll" | "proactive", concurrency: number): Promise<Accepted[]> {
  const now = Date.now();
  const unique = [...new Map(entries.map((e) => [e.item.id, e])).values()];
  const lookup = await deps.lookupPage(unique.map((e) => e.item.conversationId), unique.map((e) => e.item.id));
  const plans = unique.map((e) => ({ plan: planFor(config, e.item, lookup.business.get(e.item.conversationId), e.extra, now), extra: e.extra }));
  const mine = await deps.claimMany(plans.filter((p) => !lookup.existing.has(p.plan.item.id)).map((p) => p.plan.row), now);
  const answers = new Map<string, Accepted>();
  const shares = new Map<string, typeof plans>();
  for (const p of plans.filter((p) => mine.has(p.plan.item.id) && p.plan.queue)) shares.set(p.plan.queue!, [...(shares.get(p.plan.queue!) ?? []), p]);
  await Promise.all(
    [...shares].map(async ([queue, share]) => {
      await deps.enqueueMany(queue, share.map(({ plan, extra }) => jobFor(plan.item, plan.sender!, { ...extra, business: plan.business ?? undefined })));
      for (const { plan } of share) answers.set(plan.item.id, queued(plan, source));
    }),
  );
  const rest = plans.filter((p) => !answers.has(p.plan.item.id));
  for (let i = 0; i < rest.length; i += concurrency) {
    await Promise.all(
      rest.slice(i, i + concurrency).map(async ({ plan, extra }) => {
        const id = plan.item.id;
        answers.set(id, mine.has(id) ? await claimed(deps, plan, source, extra) : await duplicate(deps, plan, lookup.existing.get(id), source, extra));
      }),
    );
  }
  return entries.map((e) => answers.get(e.item.id)!);
}

async function claimed(deps: AcceptDeps, plan: Plan, source: string, extra: Extra): Promise<Accepted> {
  const { item, sender, queue } = plan;
  if (!sender || !queue) return { duplicate: false, state: await refuseNoSender(deps, item), createdAt: plan.orderedAt };
  await deps.enqueue(queue, jobFor(item, sender, { ...extra, business: plan.business ?? undefined }));
  return queued(plan, source);
}

function queued(plan: Plan, source: string): Accepted {
  const { item } = plan;
  log("info", "outbound.accepted", { cxoneMessageId: item.id, conversationId: item.conversationId, kind: source, sender: plan.queue, segments: plan.segments, encoding: plan.encoding, to: item.to });
  return { duplicate: false, state: "queued", createdAt: plan.orderedAt };
}

async function duplicate(deps: AcceptDeps, plan: Plan, existing: Existing, source: string, extra: Extra): Promise<Accepted> {
  const { item, sender } = plan;
  log("info", "outbound.duplicate", { cxoneMessageId: item.id, conversationId: item.conversationId, kind: source, status: existing?.state });
  const createdAt = existing ? (createdInstant(existing.cxoneCreatedAt ?? undefined) ?? existing.createdAt) : plan.orderedAt;
  if (existing?.state !== "queued") return { duplicate: true, state: existing?.state ?? "queued", createdAt };
  // Still "queued": the first copy's handler may have died before queueing or refusing it, so
  // this copy finishes the job (the queue ignores ids it has; the sender checks opt-outs again).
  const key = existing.sender ?? plan.queue;
  if (!sender || !key) return { duplicate: true, state: await refuseNoSender(deps, item), createdAt };
  await deps.enqueue(key, jobFor(item, { ...sender, key }, { ...extra, business: plan.business ?? undefined }));
  return { duplicate: true, state: "queued", createdAt };
}

async function refuseNoSender(deps: AcceptDeps, item: OutboundItem): Promise<"failed"> {
  await deps.refuse(item.id, "NO_SENDER", "no sender: the message has no from, the conversation no business number, and TWILIO_FROM_NUMBER is not set");
  log("warn", "outbound.refused", { cxoneMessageId: item.id, conversationId: item.conversationId, reason: "NO_SENDER" });
  return "failed";
}
