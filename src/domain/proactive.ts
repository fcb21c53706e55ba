import type { ProactiveAlert } from "./cxone";
import type { Ready } from "../config";
import { log } from "../log";
import { nextAllowed, parseQuietHours } from "./compliance/quiet-hours";
import { timeZoneOf } from "./compliance/time-zones";
import type { Accepted, Entry } from "./outbound/accept";
import { resolveSender, type Sender } from "./outbound/job";
import { onChannel, type Channel } from "./compliance/e164";
import { insideWindow, resolveTemplate, templateText, type TemplateRequest, type TemplateSend } from "./whatsapp";

export interface ProactiveRequest {
  key: string;
  campaignId: string;
  /** The customer's number (E.164); on WhatsApp the message goes to whatsapp:+ and it. */
  to: string;
  channel?: Channel;
  /** Free text, or (WhatsApp only) a template. */
  text?: string;
  template?: TemplateRequest;
  from?: string;
  customFields?: Record<string, string | number | boolean>;
  batchId?: string;
}

export interface ProactiveAnswer {
  conversationId: string | null;
  messageId: string | null;
  status: "queued" | "deferred" | "refused" | "failed";
  reason?: string;
  /** When the SMS may go (deferred by quiet hours), ISO 8601. */
  sendAt?: string;
}

export interface ProactiveDeps {
  /** The answers stored for these keys (one read, however many). */
  firstAnswers(keys: string[]): Promise<Map<string, ProactiveAnswer>>;
  /** Of these numbers, the ones suppressed for these businesses (one read). */
  suppressedAmong(phones: string[], businesses: (string | null | undefined)[]): Promise<Set<string>>;
  /** The alert's conversation in CXone, with its text in it (idempotent on the caller's key). */
  openProactive(alert: ProactiveAlert): Promise<{ conversationId: string; messageId: string }>;
  /** Also what threads a customer's reply there: their thread adopts the newest proactive conversation (one write). */
  recordConversations(rows: ProactiveConversation[]): Promise<void>;
  /** Into the senders' queues, each exactly once (the outbound path's acceptMany); answers in order. */
  accept(entries: Entry[]): Promise<Accepted[]>;
  /** When the customer last wrote to this WhatsApp sender (its object keeps the window). */
  lastInbound(sender: string, customer: string): Promise<number | null>;
  /** Stores each answer unless one is stored already; returns the stored ones. */
  remember(entries: { request: ProactiveRequest; answer: ProactiveAnswer }[]): Promise<Map<string, ProactiveAnswer>>;
}

export interface ProactiveConversation {
  id: string;
  customer: string;
  business: string;
  campaignId: string;
  idleCloseAt: number;
}

/** One recipient's launch: its answer, or why it must be tried again (or given up). */
export type Launch = { ok: true; answer: ProactiveAnswer } | { ok: false; error: unknown };

/** Where the recipient is, by their number; the configured default when the number does not say. */
export function sendTime(config: Ready, to: string, now: number): number {
  const zone = timeZoneOf(to) ?? config.QUIET_HOURS_DEFAULT_TZ ?? "America/New_York";
  return nextAllowed(new Date(now), zone, parseQuietHours(config.QUIET_HOURS)).getTime();
}

/** One recipient: {@link launchMany} of one; a failure is thrown. */
export async function launchProactive(deps: ProactiveDeps, config: Ready, req: ProactiveRequest, now = Date.now()): Promise<ProactiveAnswer> {
  const [launch] = await launchMany(deps, config, [req], now);
  if (!launch!.ok) throw launch!.error;
  return launch!.answer;
}

interface Opening {
  req: ProactiveRequest;
  to: string;
  business: string;
  sendAt: number;
  template?: TemplateSend;
  text: string;
}

/**
 * Starts business-initiated conversations (contract §3–4), a group at a time: refuse a suppressed
 * recipient; create each CXone conversation with `proactive: true` and the text in it (idempotent
 * on the caller's key); bind the customer's thread to it so a reply lands there; queue the SMS
 * through the sender's rate bucket, deferred past quiet hours. D1 is read and written once per
 * step for the whole group, not per recipient. Every step is idempotent, so a repeat or a crash
 * midway ends in one conversation and one SMS; the first answer is the answer. Answers in the
 * order of `reqs`; a step that fails for the whole group throws.
 */
export async function launchMany(deps: ProactiveDeps, config: Ready, reqs: readonly ProactiveRequest[], now = Date.now()): Promise<Launch[]> {
  const first = await deps.firstAnswers(reqs.map((r) => r.key));
  const launches = new Map<string, Launch>();
  const answers: { request: ProactiveRequest; answer: ProactiveAnswer }[] = [];
  const refuse = (request: ProactiveRequest, reason: string) => answers.push({ request, answer: { conversationId: null, messageId: null, status: "refused", reason } });
  const fresh = reqs.filter((r) => !first.has(r.key)).map((req) => ({ req, sender: resolveSender(config, req.from, undefined, req.channel ?? "sms") }));
  const suppressed = await suppressedIn(deps, fresh);
  const openings: Opening[] = [];
  await Promise.all(
    fresh.map(async ({ req, sender }) => {
      try {
        const opening = await prepare(deps, config, req, sender, suppressed.has(req.key), now);
        if (typeof opening === "string") refuse(req, opening);
        else openings.push(opening);
      } catch (error) {
        launches.set(req.key, { ok: false, error });
      }
    }),
  );
  const opened = (
    await Promise.all(
      openings.map(async (o) => {
        try {
          return { ...o, ...(await deps.openProactive(alertOf(o))) };
        } catch (error) {
          launches.set(o.req.key, { ok: false, error });
          return undefined;
        }
      }),
    )
  ).filter((o) => o !== undefined);
  await deps.recordConversations(
    opened.map((o) => ({ id: o.conversationId, customer: o.to, business: o.business, campaignId: o.req.campaignId, idleCloseAt: o.sendAt + config.PROACTIVE_IDLE_CLOSE_HOURS * 3600_000 })),
  );
  const accepted = await deps.accept(
    opened.map((o) => ({
      item: { id: o.messageId, conversationId: o.conversationId, to: o.to, body: o.text, from: o.req.from ?? null, createdTime: new Date(now).toISOString() },
      extra: { proactive: true, ...(o.sendAt > now ? { notBefore: o.sendAt } : {}), ...(o.req.batchId ? { batchId: o.req.batchId } : {}), ...(o.template ? { template: o.template } : {}) },
    })),
  );
  opened.forEach((o, i) => answers.push({ request: o.req, answer: answerOf(o, accepted[i]!.state, now) }));
  const stored = await deps.remember(answers);
  for (const { request } of answers) launches.set(request.key, { ok: true, answer: stored.get(request.key)! });
  return reqs.map((r) => (first.has(r.key) ? { ok: true, answer: first.get(r.key)! } : launches.get(r.key)!));
}

/**
 * The keys of the group's requests whose recipient opted out of their sender: one read per
 * sender (a batch has one). A number is judged against its own request's sender only.
 */
async function suppressedIn(deps: ProactiveDeps, group: readonly { req: ProactiveRequest; sender: Sender | undefined }[]): Promise<Set<string>> {
  const bySender = new Map<string, { keys: string[]; reqs: ProactiveRequest[] }>();
  for (const { req, sender } of group) {
    if (!sender) continue;
    const keys = [sender.from ?? sender.key, sender.key];
    const share = bySender.get(keys.join(" ")) ?? { keys, reqs: [] };
    share.reqs.push(req);
    bySender.set(keys.join(" "), share);
  }
  const found = await Promise.all(
    [...bySender.values()].map(async (share) => {
      const out = await deps.suppressedAmong([...new Set(share.reqs.map((r) => r.to))], share.keys);
      return share.reqs.filter((r) => out.has(r.to)).map((r) => r.key);
    }),
  );
  return new Set(found.flat());
}

/** What one recipient's conversation needs, or why it is refused. */
async function prepare(deps: ProactiveDeps, config: Ready, req: ProactiveRequest, sender: Sender | undefined, suppressed: boolean, now: number): Promise<Opening | string> {
  const channel = req.channel ?? "sms";
  const to = onChannel(req.to, channel);
  if (!sender) return "no_sender";
  // The number the customer will see, or the Messaging Service until it has picked one (the
  // sender rebinds the conversation to that number once Twilio says which).
  const business = sender.from ?? sender.key;
  if (suppressed) return "opted_out";
  const sendAt = sendTime(config, req.to, now);
  // contract §9: free text on WhatsApp only while the customer's window is open — still open when
  // quiet hours let it go, or the customer would be shown a conversation whose message never comes.
  if (channel === "whatsapp" && !req.template && !insideWindow(await deps.lastInbound(sender.key, to), sendAt)) return "outside_whatsapp_window";
  const template = req.template ? resolveTemplate(config, req.template) : undefined;
  return { req, to, business, sendAt, ...(template ? { template } : {}), text: template ? templateText(template) : req.text! };
}

function alertOf(o: Opening): ProactiveAlert {
  const { req } = o;
  return {
    key: req.key,
    campaignId: req.campaignId,
    to: o.to,
    text: o.text,
    business: o.business,
    customFields: req.customFields,
    ...(req.batchId ? { batchId: req.batchId } : {}),
    ...(req.template ? { template: { name: req.template.name, ...(req.template.language ? { language: req.template.language } : {}), parameters: req.template.parameters.map((p) => p.text) } } : {}),
  };
}

/**
 * A repeat after a crash midway can find the message already judged: refused, or a dead letter
 * (the reconciler gave up on it before the repeat came) — say so, never "queued".
 */
function answerOf(o: Opening & { conversationId: string; messageId: string }, state: string, now: number): ProactiveAnswer {
  const deferred = o.sendAt > now;
  const status = state === "failed" ? "refused" : state === "dead" ? "failed" : deferred ? "deferred" : "queued";
  log("info", "proactive.accepted", { conversationId: o.conversationId, cxoneMessageId: o.messageId, campaignId: o.req.campaignId, batchId: o.req.batchId ?? null, status, to: o.req.to });
  return {
    conversationId: o.conversationId,
    messageId: o.messageId,
    status,
    ...(status === "refused" ? { reason: "opted_out" } : status === "failed" ? { reason: "dead_letter" } : {}),
    ...(deferred ? { sendAt: new Date(o.sendAt).toISOString() } : {}),
  };
}
