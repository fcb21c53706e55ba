import { Hono, type Context } from "hono";
import { Faults, faultMiddleware } from "../faults";
import { Carrier, type InboundSms, type Outcome } from "./carrier";
import { controlRoutes } from "./control";
import { errorBody, twilioError, type TwilioError } from "./errors";
import { listPage } from "./list";
import { MediaStore, type MediaContent, type MediaInput } from "./media";
import { createMessage, newSid, resource, type EmulatedMessage } from "./messages";
import { isMessageStatus } from "./openapi";
import { twilioOpenApi } from "./openapi-subset";
import { validateCreate, validateListQuery } from "./validate";
import { checkWhatsAppSend, DEFAULT_WHATSAPP_TEMPLATES, isWhatsApp, isWhatsAppInbound, OUTSIDE_WINDOW, WhatsAppWindows } from "./whatsapp";

export type { EmulatedMessage, InboundSms, MediaContent, MediaInput, Outcome };

/**
 * A customer's text as the emulator's caller describes it: media either as URLs (with their
 * types) or as content the emulator stores and hands out under its own MediaUrls, as Twilio does;
 * `mediaUrls` are bare URLs, typed from the stored item when they are the emulator's own.
 */
export interface InboundInput extends Omit<InboundSms, "media"> {
  media?: (NonNullable<InboundSms["media"]>[number] | MediaContent)[];
  mediaUrls?: string[];
}

export interface StoredMediaRef {
  sid: string;
  url: string;
  contentType: string;
  size: number;
}

export interface TwilioEmulatorOptions {
  /** "AC" + 32 hex. */
  accountSid: string;
  /** Signs webhooks and callbacks; with accountSid it authenticates API calls. */
  authToken: string;
  /** API key SID (SK…) → secret, also accepted for Basic auth. */
  apiKeys?: Record<string, string>;
  /** Where inbound webhooks (and callbacks to the public URL) are POSTed, e.g. "http://localhost:8787". */
  bridgeUrl?: string;
  /** The URL the bridge believes it is reached at, which is what gets signed (default bridgeUrl). */
  publicBaseUrl?: string;
  /** Progress sent messages queued → sending → sent → final, with signed StatusCallbacks, a step apart (default off). */
  autoStatus?: false | { stepMs: number };
  /** Probabilities that an automatic status callback is dropped, sent twice, or delayed past the next one. */
  callbackFaults?: { duplicate?: number; drop?: number; reorder?: number };
  random?: () => number;
  /** Used for outgoing webhooks and callbacks (default globalThis.fetch). */
  fetch?: typeof fetch;
  /**
   * The emulator's origin as the bridge's TWILIO_API_BASE names it: MediaUrls and the CDN redirect
   * point there (default: the origin the request came to). The bridge fetches media only there.
   */
  apiBaseUrl?: string;
  /**
   * WhatsApp Content templates by Content SID (HX…): their text with `{{1}}`, `{{2}}` placeholders.
   * Replaces the dev defaults (DEFAULT_WHATSAPP_TEMPLATES) when given.
   */
  whatsappTemplates?: Record<string, string>;
  /** Share (0..1) of delivered WhatsApp messages that get a `read` callback with autoStatus (default 1). */
  whatsappReadShare?: number;
}

export interface TwilioEmulator {
  app: Hono;
  faults: Faults;
  /** Every message created through the API, in creation order. */
  messages(): EmulatedMessage[];
  /**
   * A customer's text, as Twilio's signed inbound webhook to `${bridgeUrl}/twilio/inbound`; media
   * given as content is stored under the message, its URLs on apiBaseUrl, else on `baseUrl`.
   */
  sendInbound(input: InboundInput, baseUrl?: string): Promise<{ sid: string; status: number; body: string }>;
  /** Stores an MMS item; its MediaUrl is on apiBaseUrl, else on `baseUrl`. */
  addMedia(input: MediaInput, baseUrl?: string): StoredMediaRef;
  /** What Twilio's CDN answers for a stored item (no credentials asked), undefined when unknown. */
  mediaContent(sid: string): Response | undefined;
  /** One signed status callback (and the stored status updated); the HTTP status the bridge answered, 0 without a StatusCallback. */
  sendStatus(sid: string, status: string, errorCode?: number): Promise<number>;
  /** How automatic status progression ends for a recipient (default delivered). */
  setOutcome(to: string, outcome: Outcome): void;
  /** Sends to this number are refused with Twilio error 21610 from now on. */
  unsubscribe(phone: string): void;
  /**
   * Places the customer's last WhatsApp message to `business` at `lastInboundAt` (ms since epoch),
   * or forgets it (`null`): free text to them is allowed for 24 h after. Whether it is open now.
   */
  setWhatsAppWindow(customer: string, business: string, lastInboundAt: number | null): boolean;
  /**
   * The injected faults that fired (API faults by kind, automatic callbacks dropped, repeated or
   * delayed), and the WhatsApp free-text sends failed with 63016 for being outside the window.
   */
  stats(): { faults: Record<string, number>; callbacks: { drop: number; duplicate: number; reorder: number }; maxInFlight: number; outsideWindow: number };
  reset(): void;
}

/** The number a Messaging Service sends from: Twilio's magic always-valid test sender. */
const SERVICE_NUMBER = "+15005550006";
const API = "/2010-04-01/Accounts/:AccountSid";

const fail = (c: Context, e: TwilioError) => c.json(errorBody(e), e.status);
const notFound = (c: Context) => fail(c, twilioError(404, 20404, `The requested resource ${new URL(c.req.url).pathname} was not found`));

/** Twilio reads parameters only from a form body; any other body leaves the request without them. */
async function formOf(c: Context): Promise<URLSearchParams> {
  if (!(c.req.header("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) return new URLSearchParams();
  // Decoded by hand: workerd warns on .text() of a body whose type is not text/*.
  return new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
}

/**
 * A local Twilio Messages API (create, fetch, list) that answers the way Twilio's OpenAPI
 * description says, and also plays the carrier: signed inbound webhooks and status callbacks.
 * Web-standard APIs only, so it runs in workerd (tests) as well as in Node (`npm run dev`).
 */
export function createTwilioEmulator(options: TwilioEmulatorOptions): TwilioEmulator {
  const random = options.random ?? Math.random;
  const faults = new Faults(random);
  const readShare = options.whatsappReadShare ?? 1;
  if (!(readShare >= 0 && readShare <= 1)) throw new RangeError(`whatsappReadShare must be within 0..1, not ${readShare}`);
  const carrier = new Carrier({ ...options, random, fetch: options.fetch ?? ((input, init) => fetch(input, init)) });
  let messages: EmulatedMessage[] = [];
  const templates = options.whatsappTemplates ?? DEFAULT_WHATSAPP_TEMPLATES;
  const windows = new WhatsAppWindows();
  let outsideWindow = 0;
  const unsubscribed = new Set<string>();
  const media = new MediaStore(options.accountSid);
  // apiBaseUrl, when set, is the one true address; else the caller's (the origin a request came to).
  const baseOf = (given: string | undefined) => {
    const base = options.apiBaseUrl ?? given;
    if (!base) throw new Error("media URLs need the emulator's base URL (apiBaseUrl)");
    return base.replace(/\/+$/, "");
  };

  function addMedia(input: MediaInput, baseUrl?: string): StoredMediaRef {
    const base = baseOf(baseUrl);
    const item = media.add(input);
    return { sid: item.sid, url: media.url(base, item), contentType: item.contentType, size: item.size };
  }

  function sendInbound(input: InboundInput, baseUrl?: string) {
    const { media: given = [], mediaUrls = [], ...sms } = input;
    // The customer wrote to the business: WhatsApp takes free text from it for the next 24 h.
    if (isWhatsAppInbound(sms.from)) windows.set(sms.from, sms.to, Date.now());
    const sid = sms.sid ?? newSid(given.length + mediaUrls.length > 0 ? "MM" : "SM");
    const items = [
      ...given.map((m) => ("url" in m ? m : addMedia({ ...m, messageSid: sid }, baseUrl))),
      ...mediaUrls.map((url) => ({ url, contentType: media.byUrl(url)?.contentType ?? "application/octet-stream" })),
    ];
    return carrier.sendInbound({ ...sms, sid, media: items.map(({ url, contentType }) => ({ url, contentType })) });
  }

  function authenticated(c: Context): boolean {
    if (c.req.param("AccountSid") !== options.accountSid) return false;
    const match = /^Basic\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    let credentials: string;
    try {
      credentials = atob(match?.[1] ?? "");
    } catch {
      return false;
    }
    const colon = credentials.indexOf(":");
    if (colon < 0) return false;
    const [user, secret] = [credentials.slice(0, colon), credentials.slice(colon + 1)];
    if (user === options.accountSid) return secret === options.authToken;
    return options.apiKeys !== undefined && Object.hasOwn(options.apiKeys, user) && options.apiKeys[user] === secret;
  }

  async function sendStatus(sid: string, status: string, errorCode?: number): Promise<number> {
    const m = messages.find((x) => x.sid === sid);
    if (!m) throw new Error(`the Twilio emulator has no message ${sid}`);
    if (!isMessageStatus(status)) throw new Error(`not a Twilio message status: ${status}`);
    return carrier.report(m, status, errorCode);
  }

  // When each request arrived, before any injected delay: a send that commits late (slow_commit)
  // still counts against the sender's rate at the moment it was made.
  const arrivals = new WeakMap<Request, number>();
  const app = new Hono();
  app.use(`${API}/*`, async (c, next) => {
    arrivals.set(c.req.raw, Date.now());
    await next();
  });
  app.use(`${API}/*`, faultMiddleware(faults));
  app.use(`${API}/*`, async (c, next) => {
    if (!authenticated(c)) {
      c.header("www-authenticate", 'Basic realm="Twilio API"');
      return fail(c, twilioError(401, 20003, "Authenticate"));
    }
    await next();
  });

  app.post(`${API}/Messages.json`, async (c) => {
    const form = await formOf(c);
    const invalid = validateCreate(form);
    if (invalid) return fail(c, invalid);
    const whatsapp = checkWhatsAppSend(form, templates);
    if (!whatsapp.ok) return fail(c, whatsapp.error);
    if (unsubscribed.has(form.get("To")!)) return fail(c, twilioError(400, 21610, "Attempt to send to unsubscribed recipient"));
    const m = createMessage(form, options.accountSid, SERVICE_NUMBER, Date.now(), whatsapp.content);
    m.receivedAt = arrivals.get(c.req.raw) ?? m.receivedAt;
    messages.push(m);
    // Twilio accepts WhatsApp free text outside the 24-hour window and fails it afterwards (63016);
    // a template is allowed at any time.
    if (isWhatsApp(m.to) && !m.content_sid && !windows.isOpen(m.to, m.from!, Date.now())) {
      outsideWindow += 1;
      carrier.refuse(m, OUTSIDE_WINDOW);
    } else carrier.progress(m);
    return c.json(resource(m), 201);
  });

  app.get(`${API}/Messages.json`, (c) => {
    const url = new URL(c.req.url);
    const page = validateListQuery(url.searchParams) ?? listPage(messages, url.searchParams, url.pathname);
    return "code" in page ? fail(c, page) : c.json(page);
  });

  app.get(`${API}/Messages/:file`, (c) => {
    const sid = /^(.+)\.json$/.exec(c.req.param("file"))?.[1] ?? "";
    const m = new RegExp(twilioOpenApi.messageSidPattern).test(sid) ? messages.find((x) => x.sid === sid) : undefined;
    return m ? c.json(resource(m)) : c.notFound();
  });

  // Twilio's media route answers the bytes' whereabouts, not the bytes: a redirect to its CDN.
  app.get(`${API}/Messages/:MessageSid/Media/:MediaSid`, (c) => {
    const item = media.get(c.req.param("MediaSid"));
    if (!item || item.messageSid !== c.req.param("MessageSid")) return notFound(c);
    return c.redirect(`${baseOf(new URL(c.req.url).origin)}/_emu/cdn/${item.sid}`, 307);
  });

  app.notFound(notFound);

  const emulator: TwilioEmulator = {
    app,
    faults,
    messages: () => [...messages],
    sendInbound,
    addMedia,
    mediaContent: (sid) => {
      const item = media.get(sid);
      return item && media.content(item);
    },
    sendStatus,
    setOutcome: (to, outcome) => carrier.setOutcome(to, outcome),
    unsubscribe: (phone) => void unsubscribed.add(phone),
    setWhatsAppWindow(customer, business, lastInboundAt) {
      windows.set(customer, business, lastInboundAt);
      return windows.isOpen(customer, business, Date.now());
    },
    stats: () => ({ faults: { ...faults.fired }, callbacks: { ...carrier.callbackFaultsFired }, maxInFlight: faults.maxInFlight, outsideWindow }),
    reset() {
      messages = [];
      unsubscribed.clear();
      windows.clear();
      carrier.reset();
      media.clear();
      faults.clear();
    },
  };
  app.route("/_emu", controlRoutes(emulator));
  return emulator;
}
