import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { database } from "../adapters/db/client";
import { suppressedAmong } from "../adapters/db/outbound";
import type { Db } from "../adapters/db/client";
import { batchById, batchMessageCounts, createBatch, storeBatchCounts, usedKeys, type MessageCounts } from "../adapters/db/proactive";
import { requireConfig } from "../config";
import { proactiveDeps } from "../deps";
import { resolveSender } from "../domain/outbound/job";
import { launchProactive, type ProactiveRequest } from "../domain/proactive";
import { resolveTemplate, type TemplateRequest } from "../domain/whatsapp";
import { AppError, unauthorized } from "../errors";
import { log } from "../log";
import { BatchItem, checkContent, ProactiveBatch, ProactiveSingle } from "./api-schemas";
import type { AppEnv } from "./app";
import { hasBearer } from "./auth";
import { parseOr400 } from "./validate";


/** A batch of 100,000 recipients with texts of a few hundred characters each fits. */
const MAX_BODY_MB = 32;
const limit = bodyLimit({
  maxSize: MAX_BODY_MB * 1024 * 1024,
  onError: () => {
    throw new AppError(413, "payload_too_large", `a proactive request is at most ${MAX_BODY_MB} MB`);
  },
});
/** Recipients handed to the batch's object per call. */
const BATCH_SHARE = 5_000;

/**
 * Counting a batch reads every message row it has; a dashboard polling a 100,000-recipient batch
 * through its drain would read them all on every poll. So a batch larger than LARGE_BATCH is
 * counted at most every COUNTS_TTL_MS, and reads in between get those counts (a few seconds old).
 */
const LARGE_BATCH = 1_000;
const COUNTS_TTL_MS = 5_000;
async function countsOf(db: Db, batch: NonNullable<Awaited<ReturnType<typeof batchById>>>, now: number): Promise<MessageCounts> {
  const large = batch.accepted > LARGE_BATCH;
  if (large && batch.counts && batch.countedAt !== null && now - batch.countedAt < COUNTS_TTL_MS) return JSON.parse(batch.counts) as MessageCounts;
  const counts = await batchMessageCounts(db, batch.id, now);
  if (large) await storeBatchCounts(db, batch.id, counts, now);
  return counts;
}

export const proactiveRoutes = new Hono<AppEnv>()
  .use("/v1/*", async (c, next) => {
    const config = requireConfig(c.env, "proactive");
    if (!hasBearer(c, config.API_TOKEN)) throw unauthorized("the proactive API needs Authorization: Bearer <API_TOKEN>");
    await next();
  })
  .post("/v1/proactive", limit, async (c) => {
    const config = requireConfig(c.env, "proactive");
    if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/json")) {
      throw new AppError(415, "unsupported_media_type", "send the request as application/json");
    }
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      throw new AppError(400, "invalid_json", "the body is not valid JSON");
    }
    if (typeof body === "object" && body !== null && "messages" in body) {
      const batch = parseOr400(ProactiveBatch, body);
      const db = database(c.env.DB);
      const batchId = crypto.randomUUID();
      const refused: { to: unknown; reason: string }[] = [];
      const candidates: ProactiveRequest[] = [];
      const seen = new Set<string>();
      // A recipient's own text or template, else the batch's template: held to the single request's rules.
      const contentOf = (v: { text?: string; template?: TemplateRequest }) => (v.text !== undefined ? { text: v.text } : { template: v.template ?? batch.template });
      const Item = BatchItem.superRefine((v, ctx) => checkContent({ channel: batch.channel, text: v.text, template: v.text === undefined ? (v.template ?? batch.template) : v.template }, ctx));
      for (const raw of batch.messages) {
        const item = Item.safeParse(raw);
        if (!item.success) {
          refused.push({ to: raw.to, reason: item.error.issues.some((i) => i.path[0] === "to") ? "invalid_number" : "invalid_message" });
        } else if (seen.has(item.data.idempotencyKey)) {
          refused.push({ to: item.data.to, reason: "duplicate_idempotency_key" });
        } else {
          seen.add(item.data.idempotencyKey);
          candidates.push({ key: item.data.idempotencyKey, campaignId: batch.campaignId, to: item.data.to, channel: batch.channel, ...contentOf(item.data), from: batch.from, customFields: item.data.customFields, batchId });
        }
      }
      // An unknown template is the request's mistake, not a recipient's: the whole batch is refused, naming it.
      for (const template of candidates.map((r) => r.template)) if (template) resolveTemplate(config, template);
      // The same sender each recipient's launch will resolve (contract §4: a Messaging Service counts).
      const sender = resolveSender(config, batch.from, undefined, batch.channel);
      const [used, suppressed] = await Promise.all([
        usedKeys(db, candidates.map((r) => r.key)),
        sender ? suppressedAmong(db, [...new Set(candidates.map((r) => r.to))], [sender.from, sender.key]) : new Set<string>(),
      ]);
      const accepted = candidates.filter((r) => {
        const reason = !sender ? "no_sender" : used.has(r.key) ? "duplicate_idempotency_key" : suppressed.has(r.to) ? "opted_out" : undefined;
        if (reason) refused.push({ to: r.to, reason });
        return reason === undefined;
      });
      // The row first: the batch's object reports its progress into it from the first launch on.
      await createBatch(db, { id: batchId, campaignId: batch.campaignId, total: batch.messages.length, accepted: accepted.length, refused: refused.length, createdAt: Date.now() });
      // In shares, each far under an RPC's size limit; launching starts with the first.
      const batchObject = c.env.BATCH.getByName(batchId);
      for (let i = 0; i < accepted.length; i += BATCH_SHARE) await batchObject.add(batchId, accepted.slice(i, i + BATCH_SHARE));
      log("info", "proactive.batch_accepted", { batchId, campaignId: batch.campaignId, count: accepted.length, reason: `${refused.length} refused` });
      return c.json({ batchId, accepted: accepted.length, refused }, 202);
    }
    const single = parseOr400(ProactiveSingle, body);
    if (single.template) resolveTemplate(config, single.template);
    const answer = await launchProactive(proactiveDeps(c.env, config), config, {
      key: single.idempotencyKey,
      campaignId: single.campaignId,
      to: single.to,
      channel: single.channel,
      ...(single.template ? { template: single.template } : { text: single.text }),
      from: single.from,
      customFields: single.customFields,
    });
    return c.json(answer);
  })
  .get("/v1/proactive/batches/:batchId", async (c) => {
    const db = database(c.env.DB);
    const batchId = c.req.param("batchId");
    const batch = await batchById(db, batchId);
    if (!batch) throw new AppError(404, "not_found", "no such batch");
    // D1 only: the batch's object may be busy launching for a while and must not hold this up.
    const counts = await countsOf(db, batch, Date.now());
    // Launched recipients are the batch's message rows, counted with the rest (its object reports
    // its own launch count a moment later: counting that would count a launch twice meanwhile).
    const pending = Math.max(0, batch.accepted - counts.total - batch.launchFailed - batch.launchRefused);
    return c.json({
      batchId,
      campaignId: batch.campaignId,
      total: batch.total,
      counts: {
        // Not yet launched into CXone counts as queued: it will be.
        queued: counts.queued + pending,
        deferred: counts.deferred,
        sent: counts.sent,
        delivered: counts.delivered,
        failed: counts.failed + batch.launchFailed,
        refused: batch.refused + batch.launchRefused + counts.refused,
      },
    });
  });
