import twilio from "twilio";
import type { EmulatedMessage } from "../../emulators/twilio/messages";
import { json } from "./http";

export type Sent = EmulatedMessage;

export const messageSid = () => `SM${crypto.randomUUID().replace(/-/g, "")}`;

/** Fresh customer numbers under a prefix of the file's own, so no two cases share a customer. */
export function numbers(prefix: string) {
  let n = 0;
  return () => `${prefix}${String(1000 + ++n)}`;
}

export interface TwilioCreds {
  TWILIO_ACCOUNT_SID: string;
  TWILIO_AUTH_TOKEN: string;
  TWILIO_FROM_NUMBER: string;
}

/**
 * Twilio as the bridge meets it over real HTTP: webhooks signed by Twilio's own `twilio` package
 * for the bridge's public URL, and what the emulated Twilio was asked to send.
 */
export function twilioSide(stack: { bridgeUrl: string; twilioUrl: string }, creds: TwilioCreds) {
  const inboundUrl = `${stack.bridgeUrl}/twilio/inbound`;
  const sent = () => json<Sent[]>(`${stack.twilioUrl}/_emu/messages`);

  /** A customer's text to the business number: a fresh MessageSid, `over` on top. */
  const fields = (over: Record<string, string> = {}): Record<string, string> => ({
    MessageSid: messageSid(),
    AccountSid: creds.TWILIO_ACCOUNT_SID,
    From: "+16285550000",
    To: creds.TWILIO_FROM_NUMBER,
    Body: "hello",
    NumMedia: "0",
    ...over,
  });

  /** POSTs the webhook; `token`, `contentType` and `body` forge what a test needs forged. */
  const inbound = (f: Record<string, string>, opts: { token?: string; contentType?: string; body?: string } = {}) =>
    fetch(inboundUrl, {
      method: "POST",
      headers: {
        "content-type": opts.contentType ?? "application/x-www-form-urlencoded",
        "x-twilio-signature": twilio.getExpectedTwilioSignature(opts.token ?? creds.TWILIO_AUTH_TOKEN, inboundUrl, f),
      },
      body: opts.body ?? new URLSearchParams(f).toString(),
    });

  return {
    fields,
    inbound,
    /** A customer's text; the bridge's HTTP status. */
    async text(from: string, body: string, over: Record<string, string> = {}) {
      const res = await inbound(fields({ From: from, Body: body, ...over }));
      await res.text();
      return res.status;
    },
    /** An MMS item stored at Twilio: its MediaUrl is on Twilio's API origin and wants the account's credentials. */
    media: (messageSid: string, contentType: string, base64: string) =>
      json<{ sid: string; url: string }>(`${stack.twilioUrl}/_emu/media`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messageSid, contentType, base64 }),
      }),
    basicAuth: `Basic ${btoa(`${creds.TWILIO_ACCOUNT_SID}:${creds.TWILIO_AUTH_TOKEN}`)}`,
    sent,
    sentTo: async (to: string) => (await sent()).filter((m) => m.to === to),
    /** The carrier's verdict for every later message to `to` (the emulator reports it by callback). */
    outcome: (to: string, status: "delivered" | "undelivered" | "failed", errorCode?: number) =>
      json(`${stack.twilioUrl}/_emu/outcome/${encodeURIComponent(to)}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ status, ...(errorCode ? { errorCode } : {}) }),
      }),
  };
}

export type TwilioSide = ReturnType<typeof twilioSide>;
