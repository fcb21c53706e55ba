import type { Ready } from "../../../config";
import type { CxonePort, ProactiveAlert, Receipt } from "../../../domain/cxone";
import type { InboundMessage, Thread, ThreadResult } from "../../../domain/inbound";
import { log } from "../../../log";
import { isUpstreamStatus } from "../call";
import type { TokenSource } from "../token";
import { cxoneClient, type CxoneApi } from "./client";
import { inboundConversation, inboundMessage, proactiveConversation, proactiveMessage } from "./payloads";
import type { StatusReport } from "./schemas";

/** The open-messaging dialect (contract §3–4): conversations, appended messages, a polled feed, SENT receipts. */
export function openMessagingPort(config: Ready<"open-messaging">, tokens: TokenSource): CxonePort & { api: CxoneApi } {
  const api = cxoneClient(config, tokens);
  return {
    api,
    reportsSent: true,
    pollsReplies: true,
    deliverInbound: (thread, msg) => threadInbound(api, thread, msg),
    async openProactive(alert: ProactiveAlert) {
      const conversation = await api.createConversation(proactiveConversation(alert), `proactive:${alert.key}`);
      const message = await api.appendMessage(conversation.id, proactiveMessage(alert), `proactive:${alert.key}:message`);
      return { conversationId: conversation.id, messageId: message.id };
    },
    report: (cxoneMessageId, receipt) => api.reportStatus(cxoneMessageId, statusReport(receipt)),
    close: (conversationId) => api.updateConversation(conversationId, { status: "closed" }),
  };
}

/** contract §4 "Report status". (A report queued before receipts were kept neutral is already one.) */
function statusReport(receipt: Receipt | StatusReport): StatusReport {
  if ("deliveryReceipt" in receipt) return receipt;
  return {
    status: receipt.status,
    deliveryReceipt: {
      status: receipt.status,
      timestamp: receipt.at,
      ...(receipt.providerMessageId ? { providerMessageId: receipt.providerMessageId } : {}),
      ...(receipt.errorCode ? { errorCode: receipt.errorCode } : {}),
      ...(receipt.errorMessage ? { errorMessage: receipt.errorMessage } : {}),
    },
  };
}

/**
 * Puts one inbound message into the customer's one active CXone conversation (contract §4): reuse
 * the known thread, else find the active one, else create it; append with the MessageSid as
 * idempotency key; 409 (archived) → reactivate and append; 404 (gone) → create anew and append.
 * `thread` is updated in place so the caller can persist it even when a later step throws.
 */
async function threadInbound(cxone: CxoneApi, thread: Thread, msg: InboundMessage): Promise<ThreadResult> {
  let created = false;
  let reactivated = false;

  const create = async () => {
    const conv = await cxone.createConversation(inboundConversation(msg), `conv:${msg.from}:${msg.to}:${msg.sid}:${thread.generation}`);
    thread.conversationId = conv.id;
    created = true;
    log("info", "cxone.conversation_created", { conversationId: conv.id, messageSid: msg.sid, customer: msg.from });
    return conv.id;
  };

  if (!thread.conversationId) {
    const active = await cxone.findActiveConversation(msg.from);
    if (active) thread.conversationId = active.id;
    else await create();
  }

  const append = () => cxone.appendMessage(thread.conversationId!, inboundMessage(msg), msg.sid);
  try {
    const appended = await append();
    return { conversationId: thread.conversationId!, cxoneMessageId: appended.id, created, reactivated };
  } catch (err) {
    if (isUpstreamStatus(err, 409)) {
      await cxone.updateConversation(thread.conversationId!, { status: "active", archived: false, routing: { refresh_carrier_route: true } });
      reactivated = true;
      log("info", "cxone.conversation_reactivated", { conversationId: thread.conversationId, messageSid: msg.sid });
    } else if (isUpstreamStatus(err, 404)) {
      log("warn", "cxone.conversation_gone", { conversationId: thread.conversationId, messageSid: msg.sid });
      thread.generation += 1;
      thread.conversationId = null;
      await create();
    } else {
      throw err;
    }
    const appended = await append();
    return { conversationId: thread.conversationId!, cxoneMessageId: appended.id, created, reactivated };
  }
}
