import { Hono, type Context } from "hono";
import { parseForm, signRequest } from "../../src/adapters/twilio/signature";
import { countSegments } from "../../src/domain/compliance/segments";
import { FaultRule, Faults, faultMiddleware } from "../faults";
import { createMessage, errorBody, matchesQuery, newSid, resource, rfc2822, validateCreate, type EmulatedMessage, type TwilioError } from "./messages";
import { openapi } from "./openapi-subset";

export type { EmulatedMessage };

export interface TwilioEmulatorOptions {
  accountSid: string;
  /** Signs webhooks and callbacks; with accountSid it authenticates API calls. */
  authToken: string;
  /** API key SID (SK…) → secret, also accepted for Basic auth. */
  apiKeys?: Record<string, string>;
  /** Where inbound webhooks are POSTed (the bridge's origin). */
  bridgeUrl?: string;
  /** The URL the bridge believes it is reached at, which is what gets signed (default bridgeUrl). */
  publicBaseUrl?: string;
  /** Progress sent messages queued → sending → sent → final with signed StatusCallbacks, a step apart. */
  autoStatus?: false | { stepMs: number };
  /** Callback misbehaviour for the soak: probabilities to drop, duplicate or delay (reorder) one. */
  callbackFaults?: { duplicate?: number; drop?: number; reorder?: number };
  random?: () => number;
  fetch?: typeof fetch;
}

export interface Outcome {
  status: "delivered" | "undelivered" | "failed" | "sent";
  errorCode?: number;
}

export type TwilioEmulator = ReturnType<typeof createTwilioEmulator>;

/** The number a Messaging Service sends from, in the emulator. */
const SERVICE_NUMBER = "+15005550006";

/**
 * A local Twilio Messages API (create, fetch, list), checked against Twilio's OpenAPI
 * description, that also plays the carrier: signed inbound webhooks and status callbacks.
 */
export function createTwilioEmulator(options: TwilioEmulatorOptions) {
  const faults = new Faults();
  const random = options.random ?? Math.random;
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  let messages: EmulatedMessage[] = [];
  let unsubscribed = new Set<string>();
  let outcomes = new Map<string, Outcome>();
  const callbacksSent: { sid: string; status: string; http: number }[] = [];

  const fail = (c: Context, e: TwilioError) => c.json(errorBody(e), e.status as 400);

  function authorized(c: Context): boolean {
    const match = /^Basic (.+)$/.exec(c.req.header("authorization") ?? "");
    if (!match || c.req.param("AccountSid") !== options.accountSid) return false;
    const [user, ...rest] = atob(match[1]!).split(":");
    const secret = rest.join(":");
    return (user === options.accountSid && secret === options.authToken) || (user !== undefined && options.apiKeys?.[user] === secret);
  }

  /** POSTs a form to `target`, signed the way Twilio signs it for `signedUrl` (the URL it was told). */
  async function signedPost(signedUrl: string, target: string, fields: [string, string][]): Promise<Response> {
    const body = new URLSearchParams(fields).toString();
    const signature = await signRequest(options.authToken, signedUrl, parseForm(body));
    return send(target, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature }, body });
  }

  async function sendStatus(sid: string, status: string, errorCode?: number): Promise<number> {
    const m = messages.find((x) => x.sid === sid);
    if (!m) throw new Error(`no message ${sid}`);
    m.status = status;
    m.date_updated = rfc2822(Date.now());
    if (errorCode !== undefined) {
      m.error_code = errorCode;
      m.error_message = `error ${errorCode}`;
    }
    if (!m.status_callback) return 0;
    const callback = new URL(m.status_callback);
    const fields: [string, string][] = [
      ["MessageSid", m.sid],
      ["SmsSid", m.sid],
      ["MessageStatus", status],
      ["SmsStatus", status],
      ["AccountSid", m.account_sid],
      ["From", m.from ?? ""],
      ["To", m.to],
      ["ApiVersion", "2010-04-01"],
      ...(m.messaging_service_sid ? ([["MessagingServiceSid", m.messaging_service_sid]] as [string, string][]) : []),
      ...(errorCode !== undefined ? ([["ErrorCode", String(errorCode)]] as [string, string][]) : []),
    ];
    // The callback URL is the bridge's public URL; deliver it to where the bridge really listens.
    const target = options.bridgeUrl ? `${options.bridgeUrl}${callback.pathname}${callback.search}` : m.status_callback;
    const res = await signedPost(m.status_callback, target, fields);
    await res.text();
    callbacksSent.push({ sid, status, http: res.status });
    return res.status;
  }

  /** Plays the carrier for one message: its status callbacks, a step apart, with the configured misbehaviour. */
  function progress(m: EmulatedMessage, stepMs: number): void {
    const outcome = outcomes.get(m.to) ?? { status: "delivered" };
    const steps: [string, number | undefined][] = [["sending", undefined], ["sent", undefined]];
    if (outcome.status !== "sent") steps.push([outcome.status, outcome.errorCode]);
    const f = options.callbackFaults ?? {};
    steps.forEach(([status, code], i) => {
      if (random() < (f.drop ?? 0)) return;
      const delay = stepMs * (i + 1) + (random() < (f.reorder ?? 0) ? stepMs * 2.5 : 0);
      const fire = () => void sendStatus(m.sid, status, code).catch(() => undefined);
      setTimeout(fire, delay);
      if (random() < (f.duplicate ?? 0)) setTimeout(fire, delay + stepMs / 3);
    });
  }

  const app = new Hono();
  app.use("/2010-04-01/*", faultMiddleware(faults));
  app.use("/2010-04-01/Accounts/:AccountSid/*", async (c, next) => {
    if (!authorized(c)) return fail(c, { status: 401, code: 20003, message: "Authenticate" });
    await next();
  });

  app.post("/2010-04-01/Accounts/:AccountSid/Messages.json", async (c) => {
    if (!(c.req.header("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
      return fail(c, { status: 400, code: 20001, message: "Content-Type must be application/x-www-form-urlencoded" });
    }
    const form = new URLSearchParams(await c.req.text());
    const invalid = validateCreate(form);
    if (invalid) return fail(c, invalid);
    if (unsubscribed.has(form.get("To")!)) return fail(c, { status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient" });
    const m = createMessage(form, options.accountSid, SERVICE_NUMBER, Date.now());
    messages.push(m);
    if (options.autoStatus && m.status_callback) progress(m, options.autoStatus.stepMs);
    return c.json(resource(m, new URL(c.req.url).origin), 201);
  });

  app.get("/2010-04-01/Accounts/:AccountSid/Messages.json", (c) => {
    const query = new URL(c.req.url).searchParams;
    for (const key of query.keys()) {
      if (!(openapi.listQuery as readonly string[]).includes(key)) return fail(c, { status: 400, code: 20001, message: `Invalid parameter: ${key}` });
    }
    const pageSize = Math.min(1000, Math.max(1, Number(query.get("PageSize") ?? 50) || 50));
    const page = Math.max(0, Number(query.get("Page") ?? 0) || 0);
    const found = messages.filter((m) => matchesQuery(m, query)).reverse();
    const slice = found.slice(page * pageSize, (page + 1) * pageSize);
    const path = `/2010-04-01/Accounts/${options.accountSid}/Messages.json`;
    const at = (p: number) => {
      const q = new URLSearchParams(query);
      q.set("PageSize", String(pageSize));
      q.set("Page", String(p));
      return `${path}?${q}`;
    };
    const origin = new URL(c.req.url).origin;
    const body: Record<string, unknown> = {
      messages: slice.map((m) => resource(m, origin)),
      end: page * pageSize + Math.max(0, slice.length - 1),
      first_page_uri: at(0),
      next_page_uri: (page + 1) * pageSize < found.length ? at(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? at(page - 1) : null,
      start: page * pageSize,
      uri: at(page),
    };
    return c.json(Object.fromEntries(openapi.page.map((k) => [k, body[k]])));
  });

  app.get("/2010-04-01/Accounts/:AccountSid/Messages/:file{[A-Z]{2}[0-9a-f]{32}\\.json}", (c) => {
    const sid = c.req.param("file").replace(/\.json$/, "");
    const m = messages.find((x) => x.sid === sid);
    if (!m) return fail(c, { status: 404, code: 20404, message: `The requested resource ${new URL(c.req.url).pathname} was not found` });
    return c.json(resource(m, new URL(c.req.url).origin));
  });

  /** A customer texts the business: Twilio's real inbound webhook, signed, POSTed to the bridge. */
  async function sendInbound(input: {
    from: string;
    to: string;
    body: string;
    media?: { url: string; contentType: string }[];
    messagingServiceSid?: string;
    sid?: string;
  }): Promise<{ sid: string; status: number; body: string }> {
    if (!options.bridgeUrl) throw new Error("sending inbound messages needs bridgeUrl");
    const media = input.media ?? [];
    const sid = input.sid ?? newSid(media.length > 0 ? "MM" : "SM");
    const fields: [string, string][] = [
      ["ToCountry", "US"],
      ["SmsMessageSid", sid],
      ["NumMedia", String(media.length)],
      ["SmsSid", sid],
      ["SmsStatus", "received"],
      ["Body", input.body],
      ["To", input.to],
      ["NumSegments", String(countSegments(input.body).segments)],
      ["MessageSid", sid],
      ["AccountSid", options.accountSid],
      ["From", input.from],
      ["FromCountry", "US"],
      ["ApiVersion", "2010-04-01"],
      ...media.flatMap((m, i): [string, string][] => [[`MediaUrl${i}`, m.url], [`MediaContentType${i}`, m.contentType]]),
      ...(input.messagingServiceSid ? ([["MessagingServiceSid", input.messagingServiceSid]] as [string, string][]) : []),
    ];
    const res = await signedPost(`${options.publicBaseUrl ?? options.bridgeUrl}/twilio/inbound`, `${options.bridgeUrl}/twilio/inbound`, fields);
    return { sid, status: res.status, body: await res.text() };
  }

  const readJson = async (c: Context) => {
    try {
      return (await c.req.json()) as Record<string, unknown>;
    } catch {
      return {};
    }
  };

  app.get("/_emu/messages", (c) => c.json(messages));
  app.get("/_emu/callbacks", (c) => c.json(callbacksSent));
  app.get("/_emu/stats", (c) => c.json({ messages: messages.length, callbacks: callbacksSent.length, faults: faults.fired }));
  app.post("/_emu/inbound", async (c) => c.json(await sendInbound((await readJson(c)) as Parameters<typeof sendInbound>[0])));
  app.post("/_emu/status/:sid", async (c) => {
    const body = await readJson(c);
    return c.json({ http: await sendStatus(c.req.param("sid"), String(body.status), body.errorCode === undefined ? undefined : Number(body.errorCode)) });
  });
  app.post("/_emu/faults", async (c) => {
    const parsed = FaultRule.array().safeParse((await readJson(c)).rules);
    if (!parsed.success) return c.json({ error: "invalid_request", message: parsed.error.message }, 400);
    faults.add(...parsed.data);
    return c.json({ rules: faults.list() });
  });
  app.delete("/_emu/faults", (c) => {
    faults.clear();
    return c.json({ rules: [] });
  });
  app.post("/_emu/unsubscribe/:phone", (c) => {
    unsubscribed.add(c.req.param("phone"));
    return c.json({ unsubscribed: [...unsubscribed] });
  });
  app.post("/_emu/outcome/:phone", async (c) => {
    outcomes.set(c.req.param("phone"), (await readJson(c)) as unknown as Outcome);
    return c.json({ ok: true });
  });
  app.post("/_emu/reset", (c) => {
    reset();
    return c.json({ ok: true });
  });

  function reset() {
    messages = [];
    unsubscribed = new Set();
    outcomes = new Map();
    callbacksSent.length = 0;
    faults.clear();
  }

  return {
    app,
    faults,
    messages: () => messages,
    callbacks: () => callbacksSent,
    sendInbound,
    sendStatus,
    setOutcome: (to: string, outcome: Outcome) => void outcomes.set(to, outcome),
    unsubscribe: (phone: string) => void unsubscribed.add(phone),
    reset,
  };
}
