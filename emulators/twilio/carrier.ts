import { parseForm, signRequest } from "../../src/adapters/twilio/signature";
import { countSegments } from "../../src/domain/compliance/segments";
import { newSid, setStatus, type EmulatedMessage } from "./messages";
import type { MessageStatus } from "./openapi";
import { isWhatsApp, isWhatsAppInbound } from "./whatsapp";

/** How a recipient's messages end when statuses progress on their own. */
export interface Outcome {
  status: "delivered" | "undelivered" | "failed" | "sent";
  errorCode?: number;
}

export interface InboundSms {
  from: string;
  to: string;
  body: string;
  media?: { url: string; contentType: string }[];
  messagingServiceSid?: string;
  sid?: string;
  /** WhatsApp only: the customer's display name (default "Emu Customer"). */
  profileName?: string;
  /**
   * More webhook fields, e.g. WhatsApp's ButtonText/ButtonPayload or Latitude/Longitude/Address/Label
   * (with MessageType to match), signed with the rest (e.g. Twilio's empty `MessagingServiceSid=` or
   * `OptOutType=`); one named like a standard field replaces it rather than repeating it.
   */
  extraFields?: [string, string][];
}

export interface CarrierOptions {
  accountSid: string;
  authToken: string;
  bridgeUrl?: string;
  publicBaseUrl?: string;
  autoStatus?: false | { stepMs: number };
  callbackFaults?: { duplicate?: number; drop?: number; reorder?: number };
  /** Share (0..1) of delivered WhatsApp messages the customer reads (default 1). */
  whatsappReadShare?: number;
  random: () => number;
  fetch: typeof fetch;
}

type Fields = [string, string][];
type Step = [MessageStatus, number | undefined];
type Media = NonNullable<InboundSms["media"]>;

const withoutTrailingSlash = (url: string | undefined) => url?.replace(/\/+$/, "");

// Enough for the bridge's needs; Twilio derives these from its number database.
const countryOf = (e164: string) => (e164.startsWith("+1") ? "US" : "");

/**
 * Everything Twilio sends rather than answers: a customer's text as Twilio's signed inbound
 * webhook, and the signed StatusCallbacks of sent messages, which it can also play out on its own
 * (queued → sending → sent → final), with callbacks lost, repeated or late as carriers make them.
 */
export class Carrier {
  private outcomes = new Map<string, Outcome>();
  /** How many automatic callbacks were dropped, repeated or delayed, for the soak's report. */
  readonly callbackFaultsFired = { drop: 0, duplicate: 0, reorder: 0 };
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly bridgeUrl?: string;
  private readonly publicBaseUrl?: string;

  constructor(private readonly options: CarrierOptions) {
    this.bridgeUrl = withoutTrailingSlash(options.bridgeUrl);
    this.publicBaseUrl = withoutTrailingSlash(options.publicBaseUrl) ?? this.bridgeUrl;
  }

  setOutcome(to: string, outcome: Outcome): void {
    this.outcomes.set(to, outcome);
  }

  /** Forgets outcomes and cancels every status change still scheduled. */
  reset(): void {
    this.outcomes.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  async sendInbound(input: InboundSms): Promise<{ sid: string; status: number; body: string }> {
    if (!this.bridgeUrl || !this.publicBaseUrl) throw new Error("sending inbound messages needs bridgeUrl");
    const media = input.media ?? [];
    const sid = input.sid ?? newSid(media.length > 0 ? "MM" : "SM");
    const fields = isWhatsAppInbound(input.from) ? this.whatsappFields(input, sid, media) : this.smsFields(input, sid, media);
    for (const [name, value] of input.extraFields ?? []) {
      const at = fields.findIndex(([n]) => n === name);
      if (at >= 0) fields[at] = [name, value];
      else fields.push([name, value]);
    }
    const res = await this.signedPost(`${this.publicBaseUrl}/twilio/inbound`, `${this.bridgeUrl}/twilio/inbound`, fields);
    return { sid, status: res.status, body: await res.text() };
  }

  /** Twilio's field set for an incoming SMS/MMS; the location fields are empty when unknown. */
  private smsFields(input: InboundSms, sid: string, media: Media): Fields {
    return [
      ["ToCountry", countryOf(input.to)],
      ["ToState", ""],
      ["SmsMessageSid", sid],
      ["NumMedia", String(media.length)],
      ["ToCity", ""],
      ["FromZip", ""],
      ["SmsSid", sid],
      ["FromState", ""],
      ["SmsStatus", "received"],
      ["FromCity", ""],
      ["Body", input.body],
      ["FromCountry", countryOf(input.from)],
      ["To", input.to],
      ...(input.messagingServiceSid ? ([["MessagingServiceSid", input.messagingServiceSid]] as Fields) : []),
      ["ToZip", ""],
      ["NumSegments", String(countSegments(input.body).segments)],
      ["MessageSid", sid],
      ["AccountSid", this.options.accountSid],
      ["From", input.from],
      ...media.flatMap((m, i): Fields => [[`MediaContentType${i}`, m.contentType], [`MediaUrl${i}`, m.url]]),
      ["ApiVersion", "2010-04-01"],
    ];
  }

  /** Twilio's field set for an incoming WhatsApp message: no location fields, the sender's profile. */
  private whatsappFields(input: InboundSms, sid: string, media: Media): Fields {
    const kind = media[0]?.contentType.split("/")[0] ?? "";
    return [
      ["SmsMessageSid", sid],
      ["NumMedia", String(media.length)],
      ["ProfileName", input.profileName ?? "Emu Customer"],
      ["MessageType", media.length === 0 ? "text" : ["image", "video", "audio"].includes(kind) ? kind : "document"],
      ["SmsSid", sid],
      // The customer's WhatsApp ID: their number's digits.
      ["WaId", input.from.replace(/\D/g, "")],
      ["SmsStatus", "received"],
      ["Body", input.body],
      ["To", input.to],
      ...(input.messagingServiceSid ? ([["MessagingServiceSid", input.messagingServiceSid]] as Fields) : []),
      ["NumSegments", "1"],
      ["ReferralNumMedia", "0"],
      ["MessageSid", sid],
      ["AccountSid", this.options.accountSid],
      ["From", input.from],
      ...media.flatMap((m, i): Fields => [[`MediaContentType${i}`, m.contentType], [`MediaUrl${i}`, m.url]]),
      ["ApiVersion", "2010-04-01"],
    ];
  }

  /**
   * Records a status change and reports it to the message's StatusCallback. Returns the HTTP
   * status the callback got, or 0 when the message has no StatusCallback (nothing is sent).
   */
  async report(m: EmulatedMessage, status: MessageStatus, errorCode?: number): Promise<number> {
    setStatus(m, status, errorCode, Date.now());
    return this.callback(m, status, errorCode);
  }

  /** Plays out a sent message's life, one step each `stepMs`, when autoStatus is on. */
  progress(m: EmulatedMessage): void {
    const auto = this.options.autoStatus;
    if (!auto || !m.status_callback) return;
    const outcome = this.outcomes.get(m.to) ?? { status: "delivered" };
    // No callback for the initial queued/accepted: Twilio never reports it either.
    const steps: Step[] = [["sending", undefined], ["sent", undefined]];
    if (outcome.status !== "sent") steps.push([outcome.status, outcome.errorCode]);
    // WhatsApp also tells the sender when the customer opened it; some never do.
    if (outcome.status === "delivered" && isWhatsApp(m.to) && this.options.random() < (this.options.whatsappReadShare ?? 1)) steps.push(["read", undefined]);
    this.play(m, steps, auto.stepMs);
  }

  /**
   * A send Twilio accepted (201) but the channel then refuses, such as WhatsApp free text outside
   * the 24-hour window: `failed` with `errorCode` a step later with autoStatus, else at once (after
   * the API's answer). Twilio's record fails even when there is no StatusCallback to tell.
   */
  refuse(m: EmulatedMessage, errorCode: number): void {
    const auto = this.options.autoStatus;
    if (auto) this.play(m, [["failed", errorCode]], auto.stepMs);
    else this.later(0, () => void this.report(m, "failed", errorCode).catch(() => undefined));
  }

  /**
   * Each step a `stepMs` after the previous one, its callback subject to the callback faults. Each
   * step schedules the next: one timer per step, all set at once, ran out of order when the event
   * loop lagged (Node runs every due timer of one duration before the next duration's), so a
   * message could end at "sent" after "delivered" — found by the soak under CI load.
   */
  private play(m: EmulatedMessage, steps: Step[], stepMs: number): void {
    const { drop = 0, duplicate = 0, reorder = 0 } = this.options.callbackFaults ?? {};
    const random = this.options.random;
    const step = (i: number): void => {
      const [status, code] = steps[i]!;
      this.later(stepMs, () => {
        if (i + 1 < steps.length) step(i + 1);
        // Twilio's own record moves on even when the callback about it is lost or late.
        setStatus(m, status, code, Date.now());
        if (random() < drop) {
          this.callbackFaultsFired.drop += 1;
          return;
        }
        const delay = random() < reorder ? stepMs * 1.5 : 0; // lands after the next step's callback
        const copies = random() < duplicate ? 2 : 1;
        if (delay > 0) this.callbackFaultsFired.reorder += 1;
        if (copies > 1) this.callbackFaultsFired.duplicate += 1;
        // Status callbacks are not retried by Twilio: one the bridge fails to take is gone.
        for (let n = 0; n < copies; n++) this.later(delay, () => void this.callback(m, status, code).catch(() => undefined));
      });
    };
    if (steps.length > 0) step(0);
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private async callback(m: EmulatedMessage, status: MessageStatus, errorCode?: number): Promise<number> {
    if (!m.status_callback) return 0;
    const fields: Fields = [
      ["SmsSid", m.sid],
      ["SmsStatus", status],
      ["MessageStatus", status],
      ["To", m.to],
      ...(m.messaging_service_sid ? ([["MessagingServiceSid", m.messaging_service_sid]] as Fields) : []),
      ["MessageSid", m.sid],
      ["AccountSid", m.account_sid],
      ["From", m.from ?? ""],
      ...(errorCode !== undefined ? ([["ErrorCode", String(errorCode)]] as Fields) : []),
      // Twilio names the channel in the callbacks of channel (non-SMS) messages.
      ...(isWhatsApp(m.to) ? ([["ChannelPrefix", "whatsapp"]] as Fields) : []),
      ["ApiVersion", "2010-04-01"],
    ];
    const res = await this.signedPost(m.status_callback, this.deliveryUrl(m.status_callback), fields);
    await res.arrayBuffer();
    return res.status;
  }

  /** A URL under the bridge's public address is delivered to where the bridge really listens. */
  private deliveryUrl(url: string): string {
    if (!this.bridgeUrl || !this.publicBaseUrl || !url.startsWith(`${this.publicBaseUrl}/`)) return url;
    return this.bridgeUrl + url.slice(this.publicBaseUrl.length);
  }

  /** POSTs a form to `target`, signed as Twilio signs it: for `signedUrl`, the URL it was given. */
  private async signedPost(signedUrl: string, target: string, fields: Fields): Promise<Response> {
    const body = new URLSearchParams(fields).toString();
    const signature = await signRequest(this.options.authToken, signedUrl, parseForm(body));
    return this.options.fetch(target, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
        "i-twilio-idempotency-token": crypto.randomUUID(),
        "user-agent": "TwilioProxy/1.1",
      },
      body,
    });
  }
}
