import type { Ready } from "../../config";
import { fetchUpstream, parseUpstream, upstreamFailure } from "../http";
import { TwilioMessage, TwilioMessagePage, type OutgoingSms } from "./schemas";

/** Twilio's Messages API as the bridge uses it (contract §4). Failures are AppErrors carrying Twilio's error code. */
export interface TwilioApi {
  send(sms: OutgoingSms): Promise<TwilioMessage>;
  fetchMessage(sid: string): Promise<TwilioMessage>;
  /** Messages to `to` (and from `from`, when known) sent on or after the day of `since`, newest first. */
  listSent(query: { to: string; from?: string; since: Date }): Promise<TwilioMessage[]>;
}

/** HTTP Basic for Twilio's API: API key credentials when configured (revocable, scoped), the auth token otherwise. */
export function basicAuth(config: Ready): string {
  const key = config.TWILIO_API_KEY_SID && config.TWILIO_API_KEY_SECRET;
  const user = key ? config.TWILIO_API_KEY_SID : config.TWILIO_ACCOUNT_SID;
  const secret = key ? config.TWILIO_API_KEY_SECRET : config.TWILIO_AUTH_TOKEN;
  return `Basic ${btoa(`${user}:${secret}`)}`;
}

export function twilioClient(config: Ready): TwilioApi {
  const base = `${config.TWILIO_API_BASE}/2010-04-01/Accounts/${config.TWILIO_ACCOUNT_SID}`;
  const headers = { authorization: basicAuth(config), accept: "application/json" };

  async function get(path: string, what: string): Promise<Response> {
    const res = await fetchUpstream("twilio", `${base}${path}`, { headers }, config.UPSTREAM_TIMEOUT_MS);
    if (!res.ok) throw await upstreamFailure("twilio", res, what);
    return res;
  }

  return {
    async send(sms) {
      const form = new URLSearchParams({ To: sms.to, StatusCallback: sms.statusCallback });
      if (sms.content) {
        form.set("ContentSid", sms.content.sid);
        form.set("ContentVariables", JSON.stringify(sms.content.variables));
      } else if (sms.body) form.set("Body", sms.body);
      if (sms.messagingServiceSid) form.set("MessagingServiceSid", sms.messagingServiceSid);
      else if (sms.from) form.set("From", sms.from);
      for (const url of sms.mediaUrls) form.append("MediaUrl", url);
      const res = await fetchUpstream(
        "twilio",
        `${base}/Messages.json`,
        { method: "POST", headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, body: form.toString() },
        config.UPSTREAM_TIMEOUT_MS,
      );
      if (!res.ok) throw await upstreamFailure("twilio", res, "the send");
      return parseUpstream("twilio", res, TwilioMessage, "the send");
    },

    async fetchMessage(sid) {
      const res = await get(`/Messages/${encodeURIComponent(sid)}.json`, "the message lookup");
      return parseUpstream("twilio", res, TwilioMessage, "the message lookup");
    },

    async listSent({ to, from, since }) {
      // "DateSent>=YYYY-MM-DD" in Twilio's docs is the key "DateSent>" (URL-encoded) with a day as value.
      const query = new URLSearchParams({ To: to, PageSize: "50" });
      if (from) query.set("From", from);
      query.set("DateSent>", since.toISOString().slice(0, 10));
      const res = await get(`/Messages.json?${query}`, "the sent-message search");
      return (await parseUpstream("twilio", res, TwilioMessagePage, "the sent-message search")).messages;
    },
  };
}
