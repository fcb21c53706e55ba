import type { EmuConversation, StatusReportRecord } from "../../emulators/cxone/state";
import type { CallbackResult } from "../../emulators/dfo/agent";
import type { DfoThread, StatusRecord } from "../../emulators/dfo/state";
import type { FaultRule } from "../../emulators/faults";
import { json, post } from "./http";
import type { Mode } from "./stack";

/**
 * CXone as an agent sees it, whichever dialect the bridge speaks: the e2e cases are written once
 * against this, and each mode's emulator answers through its own implementation.
 */
export interface ViewMessage {
  direction: "inbound" | "outbound";
  text: string;
  /** The Twilio MessageSid an inbound message carries (open-messaging: metadata.twilio_message_sid; DFO: its idOnExternalPlatform). */
  messageSid?: string;
  /** The id CXone keeps an outbound message's receipts under. */
  id?: string;
  /** Media as CXone holds it: a URL it can fetch. */
  attachments: { url: string; name?: string; contentType?: string }[];
}

export interface ViewConversation {
  customer: string;
  /** The ids the bridge names the conversation by: open-messaging its id; DFO the thread's contacts. */
  ids: string[];
  /** Opened by the business (an alert), not by the customer. */
  proactive: boolean;
  campaignId?: string;
  messages: ViewMessage[];
  /** DFO: the channel the thread is on. */
  channel?: string;
}

export interface Receipt {
  status: string;
  errorCode?: string;
  providerMessageId?: string;
}

export interface AgentReplyOptions {
  /** CXone's id of the reply: the same id again is the same reply delivered twice. */
  id?: string;
  /** When CXone created it (open-messaging only: DFO's callback carries no order the bridge reads). */
  createdTime?: string;
}

export interface AgentReplyResult {
  /** The id receipts are kept under (DFO: the bridge's answer; absent when it answered no id). */
  id?: string;
  /** The bridge's answer to CXone's push or callback. */
  status: number;
}

/** contract §4's receipts, named as each dialect names them. */
export type LogicalReceipt = "SENT" | "DELIVERED" | "UNDELIVERABLE" | "FAILED" | "READ";

export interface CxoneView {
  mode: Mode;
  conversationsOf(customer: string): Promise<ViewConversation[]>;
  /** An agent's reply in the conversation, handed to the bridge the way this dialect's CXone does it. */
  agentReply(conversation: ViewConversation, body: string, opts?: AgentReplyOptions): Promise<AgentReplyResult>;
  receiptsOf(id: string): Promise<Receipt[]>;
  /** The receipts this dialect sends for contract §4's: DFO has no SENT, says failed for both failures, in lower case. */
  wire(receipts: LogicalReceipt[]): string[];
  /** Regular expressions of the CXone calls faults are aimed at (POST a customer's message). */
  paths: { inbound: string };
  faults(rules: FaultRule[]): Promise<void>;
  clearFaults(): Promise<void>;
  /** How many injected faults fired so far. */
  faultsFired(): Promise<number>;
}

/** What differs between the dialects; the faults and their counts are the same control routes in both emulators. */
type Dialect = Omit<CxoneView, "faults" | "clearFaults" | "faultsFired">;

export function cxoneView(mode: Mode, cxoneUrl: string): CxoneView {
  const faults = {
    async faults(rules: FaultRule[]) {
      await json(`${cxoneUrl}/_emu/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ rules }) });
    },
    async clearFaults() {
      await json(`${cxoneUrl}/_emu/faults`, { method: "DELETE" });
    },
    async faultsFired() {
      const { faults: fired } = await json<{ faults: Record<string, number> }>(`${cxoneUrl}/_emu/stats`);
      return Object.values(fired).reduce((a, b) => a + b, 0);
    },
  };
  return { ...faults, ...(mode === "dfo" ? dfoView(cxoneUrl) : openMessagingView(cxoneUrl)) };
}

function openMessagingView(cxoneUrl: string): Dialect {
  const asView = (c: EmuConversation): ViewConversation => ({
    customer: c.customer,
    ids: [c.id],
    proactive: c.proactive,
    ...(typeof c.properties.campaign_id === "string" ? { campaignId: c.properties.campaign_id } : {}),
    messages: c.messages.map((m) => ({
      direction: m.direction,
      text: m.text,
      ...(typeof m.metadata?.twilio_message_sid === "string" ? { messageSid: m.metadata.twilio_message_sid } : {}),
      ...(m.direction === "outbound" ? { id: m.id } : {}),
      attachments: m.media ?? [],
    })),
  });
  return {
    mode: "open-messaging",
    async conversationsOf(customer) {
      return (await json<EmuConversation[]>(`${cxoneUrl}/_emu/conversations`)).filter((c) => c.customer === customer).map(asView);
    },
    async agentReply(conversation, body, opts = {}) {
      // Pushed by the emulator to /cxone/outbound (bearer secret), as CXone's webhook does.
      const res = await post(`${cxoneUrl}/_emu/agent-reply`, { conversationId: conversation.ids[0], body, push: true, ...opts });
      if (res.status !== 201) throw new Error(`agent-reply → ${res.status} ${await res.text()}`);
      const { id, pushed } = (await res.json()) as { id: string; pushed: number };
      return { id, status: pushed };
    },
    async receiptsOf(id) {
      const reports = (await json<Record<string, StatusReportRecord[]>>(`${cxoneUrl}/_emu/reports`))[id] ?? [];
      return reports.map(({ body: { status, deliveryReceipt } }) => ({
        status,
        ...(deliveryReceipt?.errorCode !== undefined ? { errorCode: String(deliveryReceipt.errorCode) } : {}),
        ...(deliveryReceipt?.providerMessageId ? { providerMessageId: deliveryReceipt.providerMessageId } : {}),
      }));
    },
    wire: (receipts) => receipts,
    paths: { inbound: "^/api/v2/conversations/[^/]+/messages$" },
  };
}

const DFO_WORDS: Record<LogicalReceipt, string | undefined> = { SENT: undefined, DELIVERED: "delivered", UNDELIVERABLE: "failed", FAILED: "failed", READ: "seen" };

function dfoView(cxoneUrl: string): Dialect {
  const asView = (t: DfoThread): ViewConversation => {
    // The business opened the thread when its first message is one the bridge posted as outbound (an alert).
    const first = t.messages[0];
    const campaign = first?.customFields?.find((f) => f.ident === "campaignId")?.value;
    return {
      customer: t.threadId,
      ids: [...t.contactIds],
      proactive: first?.direction === "outbound" && first.agentReply === undefined,
      ...(campaign !== undefined ? { campaignId: campaign } : {}),
      channel: t.channelId,
      messages: t.messages.map((m) => ({
        direction: m.direction,
        text: m.text,
        ...(m.direction === "inbound" ? { messageSid: m.idOnExternalPlatform } : m.idOnExternalPlatform ? { id: m.idOnExternalPlatform } : {}),
        attachments: m.attachments.map((a) => ({ url: a.url, ...(a.friendlyName ? { name: a.friendlyName } : {}), ...(a.mimeType ? { contentType: a.mimeType } : {}) })),
      })),
    };
  };
  return {
    mode: "dfo",
    async conversationsOf(customer) {
      return (await json<DfoThread[]>(`${cxoneUrl}/_emu/threads`)).filter((t) => t.threadId === customer).map(asView);
    },
    async agentReply(conversation, body, opts = {}) {
      // The emulator calls the bridge's reply callback with CXone's side of the OAuth dance.
      const res = await post(`${cxoneUrl}/_emu/agent-reply`, { channelId: conversation.channel, threadId: conversation.customer, text: body, ...(opts.id ? { id: opts.id } : {}) });
      if (res.status !== 201) throw new Error(`agent-reply → ${res.status} ${await res.text()}`);
      const result = (await res.json()) as CallbackResult;
      const id = (result.answer as { message?: { idOnExternalPlatform?: string } } | null)?.message?.idOnExternalPlatform;
      return { ...(id ? { id } : {}), status: result.status };
    },
    async receiptsOf(id) {
      const statuses = (await json<Record<string, StatusRecord[]>>(`${cxoneUrl}/_emu/statuses`))[id] ?? [];
      return statuses.map((s) => ({ status: s.status, ...(s.reason !== undefined ? { errorCode: s.reason } : {}) }));
    },
    wire: (receipts) => receipts.flatMap((r) => DFO_WORDS[r] ?? []),
    paths: { inbound: "^/dfo/3\\.0/channels/[^/]+/messages$" },
  };
}
