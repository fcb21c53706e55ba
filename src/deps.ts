import { cxonePort } from "./adapters/cxone/port";
import { database } from "./adapters/db/client";
import { businessNumberOf, claimOutbound, claimOutboundMany, isSuppressed, lookupPage, outboundByCxoneId, suppressedAmong } from "./adapters/db/outbound";
import { claimOrphans, dropOrphans, markMatched, outboundBySid, recordStatusEvent, settle } from "./adapters/db/status";
import { claimIdleCloses, conversationById, markClosed } from "./adapters/db/conversations";
import { recordDeadLetter } from "./adapters/db/dead-letters";
import { claimChecks, markDead, nextCheck } from "./adapters/db/reconcile";
import { batchById, markBatchAbandoned, unfinishedBatches } from "./adapters/db/proactive";
import { pruneFinishedBatches, pruneIdempotencyRecords, pruneMessages, pruneQuietConversations, pruneResolvedDeadLetters } from "./adapters/db/retention";
import type { RetentionDeps } from "./domain/retention";
import { twilioClient } from "./adapters/twilio/client";
import { threadName } from "./domain/inbound";
import type { ReconcileDeps } from "./domain/reconcile";
import { log } from "./log";
import { claimRefused, d1Reports, failUnsent } from "./adapters/db/outbox";
import type { Ready } from "./config";
import { policyFrom } from "./domain/backoff";
import { acceptMany, acceptOutbound, type AcceptDeps, type PageDeps } from "./domain/outbound/accept";
import type { ProactiveDeps } from "./domain/proactive";
import { answersOf, recordProactiveConversations, rememberAnswers } from "./adapters/db/proactive";
import { flushReports } from "./domain/outbox";
import { report } from "./domain/receipts";
import { closeIdle } from "./domain/idle-close";
import { matchOrphans as matchOrphanEvents } from "./domain/orphans";
import { routeStatus, type StatusRouteDeps } from "./domain/status-route";

/** A batch younger than this is still being handed to its object: not the Cron's to wake. */
const BATCH_GRACE_MS = 60_000;


/**
 * Marks a message failed before sending and reports FAILED to CXone (retried by the reconciler if
 * CXone is down). `later` sends the report once the caller has answered, where CXone only learns
 * the message's id from that answer (a DFO reply callback).
 */
export async function refuseOutbound(env: Env, config: Ready, cxoneMessageId: string, code: string, message: string, later?: (task: () => Promise<unknown>) => void): Promise<void> {
  const id = await failUnsent(database(env.DB), cxoneMessageId, report("FAILED", new Date(), { errorCode: code, errorMessage: message }));
  if (id !== undefined) await sendReport(env, config, cxoneMessageId, later);
}

/** Sends a message's queued D1 reports now, or once the caller has answered (`later`). */
async function sendReport(env: Env, config: Ready, cxoneMessageId: string, later?: (task: () => Promise<unknown>) => void): Promise<void> {
  const flush = () => flushReports(d1Reports(database(env.DB)), cxonePort(env), policyFrom(config), { messages: [cxoneMessageId] });
  if (later) later(flush);
  else await flush();
}

export function acceptDeps(env: Env, config: Ready, later?: (task: () => Promise<unknown>) => void): AcceptDeps {
  const db = database(env.DB);
  return {
    businessNumberOf: (id) => businessNumberOf(db, id),
    claim: (row, now) => claimOutbound(db, row, now),
    existing: async (id) => {
      const row = await outboundByCxoneId(db, id);
      return row ? { state: row.state, sender: row.sender, createdAt: row.createdAt, cxoneCreatedAt: row.cxoneCreatedAt } : undefined;
    },
    isSuppressed: (phone, businesses) => isSuppressed(db, phone, businesses),
    refuse: (id, code, message) => refuseOutbound(env, config, id, code, message, later),
    async claimRefused(row, now, code, message) {
      const won = await claimRefused(db, row, report("FAILED", new Date(now), { errorCode: code, errorMessage: message }), now);
      if (won) await sendReport(env, config, row.cxoneMessageId, later);
      return won;
    },
    enqueue: async (sender, job) => {
      await env.SENDER.getByName(sender).enqueue(sender, job);
    },
  };
}

export function pageDeps(env: Env, config: Ready): PageDeps {
  const db = database(env.DB);
  return {
    ...acceptDeps(env, config),
    lookupPage: (conversationIds, cxoneIds) => lookupPage(db, conversationIds, cxoneIds),
    claimMany: (rows, now) => claimOutboundMany(db, rows, now),
    enqueueMany: async (sender, jobs) => {
      await env.SENDER.getByName(sender).enqueueMany(sender, jobs);
    },
  };
}

export function statusRoute(env: Env): StatusRouteDeps {
  const db = database(env.DB);
  return {
    toOwner: (owner, id, event, source) => env.SENDER.getByName(owner).status(id, event, source),
    async ownerOf(sid) {
      const row = await outboundBySid(db, sid);
      return row?.sender && row.cxoneMessageId ? { owner: row.sender, cxoneMessageId: row.cxoneMessageId } : undefined;
    },
    orphan: (e) => recordStatusEvent(db, { ...e, matched: false }),
  };
}

/** Applies the status callbacks kept because nobody knew their SID, once their next try has come (the reconciler's sweep). */
export function matchOrphans(env: Env, now: number): Promise<number> {
  const db = database(env.DB);
  const route = statusRoute(env);
  return matchOrphanEvents(
    {
      orphans: () => claimOrphans(db, now),
      apply: (event) => routeStatus(route, event, "orphan"),
      matched: (ids) => markMatched(db, ids),
    },
  );
}

export function reconcileDeps(env: Env, config: Ready): ReconcileDeps {
  const db = database(env.DB);
  const twilio = twilioClient(config);
  const cxone = cxonePort(env);
  const route = statusRoute(env);
  return {
    claim: (now, states, limit) => claimChecks(db, now, states, limit, config.RECONCILE_AFTER_MINUTES * 60_000),
    recheckAt: (id, at) => nextCheck(db, id, at),
    fetchTwilio: (sid) => twilio.fetchMessage(sid),
    applyStatus: (event) => routeStatus(route, event, "reconcile"),
    async settleSent(p) {
      await settle(db, p.messageSid!);
      if (p.sender) await env.SENDER.getByName(p.sender).settleAsSent(p.cxoneMessageId!);
    },
    missingFromQueue: (sender, ids) => env.SENDER.getByName(sender).missing(ids),
    batchLaunching: async (id) => (await batchById(db, id))?.finishedAt === null,
    proactive: async (id) => ((await conversationById(db, id))?.campaignId ?? null) !== null,
    async lost(p, reason) {
      await recordDeadLetter(db, { kind: p.direction, ref: p.direction === "inbound" ? p.messageSid! : p.cxoneMessageId!, conversationId: p.conversationId, reason, attempts: 0 });
      if (p.direction === "outbound") await refuseOutbound(env, config, p.cxoneMessageId!, "LOST", reason);
      await markDead(db, p.id, reason);
      log("error", "deadletter", { kind: p.direction, cxoneMessageId: p.cxoneMessageId, messageSid: p.messageSid, reason });
    },
    async redeliver(p) {
      const thread = env.CONVERSATION.getByName(threadName(p.customer, p.sender!));
      await thread.deliver(true);
      if (!(await thread.status(p.messageSid!)).message) {
        await this.lost(p, "the thread no longer holds this message");
        return false;
      }
      return true;
    },
    flushReports: (now) => flushReports(d1Reports(db), cxone, policyFrom(config), { now }),
    matchOrphans: (now) => matchOrphans(env, now),
    dropOldOrphans: (before) => dropOrphans(db, before),
    closeIdle: (now) =>
      closeIdle({ claim: (at, limit, retryAt, graceMs) => claimIdleCloses(db, at, limit, retryAt, graceMs), close: (id) => cxone.close(id), markClosed: (ids) => markClosed(db, ids) }, now),
    async wakeBatches(now) {
      let pending = 0;
      for (const id of await unfinishedBatches(db, now - BATCH_GRACE_MS, 20)) {
        const woken = await env.BATCH.getByName(id).wake();
        // A batch whose object never got its recipients (the request failed after the row was
        // written; the caller was told to retry) has nothing to launch.
        if (!woken.known) await markBatchAbandoned(db, id, now);
        pending += woken.pending;
      }
      return pending;
    },
  };
}

export function retentionDeps(env: Env): RetentionDeps {
  const db = database(env.DB);
  return {
    messages: (before, limit) => pruneMessages(db, before, limit),
    deadLetters: (before, limit) => pruneResolvedDeadLetters(db, before, limit),
    idempotencyRecords: (before, limit) => pruneIdempotencyRecords(db, before, limit),
    batches: (before, limit) => pruneFinishedBatches(db, before, limit),
    conversations: (before, limit) => pruneQuietConversations(db, before, limit),
  };
}

/** A group's alerts claimed before (a repeat after a crash) are judged one by one, this many at a time. */
const REPEATS_AT_ONCE = 8;

export function proactiveDeps(env: Env, config: Ready): ProactiveDeps {
  const db = database(env.DB);
  const cxone = cxonePort(env);
  const page = pageDeps(env, config);
  return {
    firstAnswers: (keys) => answersOf(db, keys),
    suppressedAmong: (phones, businesses) => suppressedAmong(db, phones, businesses),
    openProactive: (alert) => cxone.openProactive(alert),
    recordConversations: (rows) => recordProactiveConversations(db, rows),
    accept: (entries) => acceptMany(page, config, entries, "proactive", REPEATS_AT_ONCE),
    lastInbound: (sender, customer) => env.SENDER.getByName(sender).lastInbound(customer),
    remember: (entries) => rememberAnswers(db, entries),
  };
}
