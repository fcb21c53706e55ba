import type { Ready } from "../../../config";
import { channelOf, maskPhone } from "../../../domain/compliance/e164";
import type { CxonePort, ProactiveAlert, Receipt } from "../../../domain/cxone";
import { inboundText, type InboundMessage, type Thread, type ThreadResult } from "../../../domain/inbound";
import { AppError, asAppError } from "../../../errors";
import { log } from "../../../log";
import type { FetchedMedia } from "../../twilio/media";
import { isUpstreamStatus } from "../call";
import type { TokenSource } from "../token";
import { channelFor, channelOfMessage, messageIdOf } from "./channels";
import { dfoClient, type DfoApi } from "./client";
import type { DfoStatus, NewDfoMessage } from "./schemas";

/**
 * The DFO 3.0 "Bring Your Own Channel" dialect (contract §8): a customer's messages are posted into
 * the thread named by their number on the channel of the business number they texted — CXone
 * threads by it, so there is nothing to find, create or reactivate — and reports are status
 * updates of final states only (the reply callback's 200 told CXone the bridge took it).
 */
export function dfoPort(config: Ready<"dfo">, tokens: TokenSource, fetchMedia: (url: string) => Promise<FetchedMedia>): CxonePort & { api: DfoApi } {
  const api = dfoClient(config, tokens);

  /** The channel of a business number, or a dead letter naming the setting that lacks it. */
  const channelOf = (...senders: (string | undefined)[]) => {
    const channel = channelFor(config, ...senders);
    if (channel) return channel;
    throw new AppError(502, "no_dfo_channel", "no DFO channel for this business number", { detail: `CXONE_DFO_CHANNELS has no entry for ${senders.filter(Boolean).join(" / ")} and no "*"` });
  };

  return {
    api,
    reportsSent: false,
    pollsReplies: false,

    async deliverInbound(thread: Thread, msg: InboundMessage): Promise<ThreadResult> {
      const channel = channelOf(msg.to, msg.messagingServiceSid);
      const { attachments, unavailable } = await mediaOf(api, msg, fetchMedia);
      const text = [inboundText(msg), ...unavailable.map((type) => `[attachment unavailable: ${type}]`)].filter(Boolean).join("\n");
      const posted = await api.postMessage(channel, {
        ...threadPost(msg.from, text, msg.receivedAt, "inbound", msg.profileName),
        idOnExternalPlatform: msg.sid,
        ...(attachments.length > 0 ? { attachments } : {}),
        ...(msg.optOut ? { externalAttributes: [{ key: "opt_out", value: msg.optOut }] } : {}),
      });
      // The contact is the conversation; CXone keeps the thread, so a repeat knows no new one.
      thread.conversationId = posted?.contactId ?? thread.conversationId ?? `${channel}:${msg.from}`;
      return { conversationId: thread.conversationId, cxoneMessageId: posted?.messageId ?? msg.sid, created: false, reactivated: false };
    },

    async openProactive(alert: ProactiveAlert) {
      const channel = channelOf(alert.business);
      const messageId = await messageIdOf(channel, "p", alert.key);
      const customFields = Object.entries({ ...alert.customFields, campaignId: alert.campaignId }).map(([ident, value]) => ({ ident, value: String(value) }));
      const posted = await api.postMessage(channel, {
        ...threadPost(alert.to, alert.text, new Date().toISOString(), "outbound"),
        idOnExternalPlatform: messageId,
        contact: { customFields },
      });
      // A repeat after a lost answer learns no contact id: its idle close then finds nothing to close.
      return { conversationId: posted?.contactId ?? `${channel}:${alert.to}`, messageId };
    },

    async report(cxoneMessageId: string, receipt: Receipt) {
      const status = dfoStatus(receipt);
      const channel = channelOfMessage(cxoneMessageId);
      if (!status || !channel) return; // SENT, or a message CXone never asked the bridge to send
      try {
        await api.updateStatus(channel, cxoneMessageId, status);
      } catch (err) {
        // CXone may not know the id yet (the reply callback's answer is still on its way): retry.
        if (isUpstreamStatus(err, 404)) throw new AppError(503, "cxone_error", "CXone does not know the message yet", { detail: "the status update: HTTP 404", retryable: true, upstreamStatus: 404 });
        throw err;
      }
    },

    close: (conversationId) => api.closeContact(conversationId),
  };
}

/**
 * What a message posted into a customer's thread always carries (contract §8). On WhatsApp the
 * thread is the customer's whatsapp:+… address (their SMS thread stays apart even on a shared
 * channel) and their profile name is the name the agent sees (contract §9).
 */
function threadPost(customer: string, text: string, at: string, direction: "inbound" | "outbound", profileName?: string): Omit<NewDfoMessage, "idOnExternalPlatform"> {
  const label = channelOf(customer) === "whatsapp" ? "WhatsApp" : "SMS";
  return {
    thread: { idOnExternalPlatform: customer, threadName: `${label} ${maskPhone(customer)}` },
    messageContent: { type: "TEXT", payload: { text } },
    createdAtWithMilliseconds: at,
    direction,
    authorEndUserIdentity: { idOnExternalPlatform: customer, firstName: profileName ?? customer },
  };
}

/** contract §8: delivered, seen, or failed with the reason; nothing for SENT. */
function dfoStatus(receipt: Receipt): DfoStatus | undefined {
  const updatedAt = receipt.at;
  switch (receipt.status) {
    case "DELIVERED":
      return { status: "delivered", updatedAt };
    case "READ":
      return { status: "seen", updatedAt };
    case "UNDELIVERABLE":
    case "FAILED":
      return { status: "failed", updatedAt, ...(receipt.errorCode ? { reason: receipt.errorCode } : {}) };
    default:
      return undefined;
  }
}

const EXTENSIONS: Record<string, string> = { "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "video/mp4": "mp4", "audio/mpeg": "mp3", "text/vcard": "vcf", "application/pdf": "pdf" };

/**
 * The customer's MMS items uploaded as DFO temporary attachments. One that cannot be fetched (or
 * that CXone refuses outright) is named in the text instead — never dropped silently, never a
 * reason to hold the text back; CXone being down is retried like the post.
 */
async function mediaOf(api: DfoApi, msg: InboundMessage, fetchMedia: (url: string) => Promise<FetchedMedia>) {
  const attachments: { friendlyName: string; url: string }[] = [];
  const unavailable: string[] = [];
  for (const [i, item] of msg.media.entries()) {
    let media: FetchedMedia;
    try {
      media = await fetchMedia(item.url);
    } catch (err) {
      unavailable.push(item.contentType);
      log("warn", "inbound.media_unavailable", { messageSid: msg.sid, reason: asAppError(err).publicMessage });
      continue;
    }
    try {
      const uploaded = await api.uploadAttachment(media.bytes, media.contentType);
      attachments.push({ friendlyName: `media-${i + 1}.${EXTENSIONS[media.contentType] ?? "bin"}`, url: uploaded.url });
    } catch (err) {
      if (asAppError(err).retryable) throw err;
      unavailable.push(item.contentType);
      log("warn", "inbound.media_unavailable", { messageSid: msg.sid, reason: asAppError(err).detail ?? asAppError(err).publicMessage });
    }
  }
  return { attachments, unavailable };
}
