import type { ContactStatusName, MessageStatus, NewMessage } from "./schemas";

export interface DfoAttachment {
  url: string;
  friendlyName?: string;
  mimeType?: string;
}

export interface DfoMessage {
  /** DFO's own id. */
  id: string;
  /** The bridge's id: what it posted the message under, or what it answered an agent reply with. */
  idOnExternalPlatform?: string;
  direction: "inbound" | "outbound";
  text: string;
  attachments: DfoAttachment[];
  authorEndUserIdentity?: NewMessage["authorEndUserIdentity"];
  customFields?: { ident: string; value: string }[];
  createdAtWithMilliseconds: string;
  receivedAt: string;
  contactId: string;
  /** Set on an agent's reply that CXone delivered to the bridge by callback. */
  agentReply?: { form: "2.0" | "1.0"; cxoneMessageId?: string };
  /** Stored, but an injected fault lost the answer: the bridge will (rightly) post it again. */
  answerLost?: boolean;
}

export interface DfoContact {
  id: string;
  channelId: string;
  threadId: string;
  status: ContactStatusName;
  createdAt: string;
  history: { status: ContactStatusName; updatedByUserId?: number; at: string }[];
}

export interface DfoThread {
  /** DFO's own id; `threadId` is the bridge's (thread.idOnExternalPlatform). */
  id: string;
  channelId: string;
  threadId: string;
  threadName?: string;
  /**
   * Who the customer is, from the latest inbound post's authorEndUserIdentity (an outbound post's
   * only while there is none): on WhatsApp `firstName` is the profile name the bridge passed on.
   */
  endUser?: NewMessage["authorEndUserIdentity"];
  contactIds: string[];
  messages: DfoMessage[];
}

export interface StatusRecord extends MessageStatus {
  channelId: string;
  at: string;
  answerLost?: boolean;
  /** Set when the update came out of order (see `statusRegression`), e.g. "seen before delivered". */
  regression?: string;
}

type StatusName = MessageStatus["status"];
/**
 * The order of a message's status updates: delivered or failed, then (WhatsApp) seen. An update is a
 * regression when an earlier one is further along (delivered or failed after seen), or when it is a
 * seen that no delivered came before or that follows a failure. The same status again (a retry) is
 * not one. Returns what was wrong, or undefined.
 */
const RANK: Record<StatusName, number> = { delivered: 1, failed: 1, seen: 2 };
export function statusRegression(earlier: readonly StatusName[], status: StatusName): string | undefined {
  // Named after the furthest one: "SENT after READ" rather than "SENT after DELIVERED".
  const ahead = earlier.reduce<StatusName | undefined>((far, s) => (RANK[s] > RANK[status] && (far === undefined || RANK[s] > RANK[far]) ? s : far), undefined);
  if (ahead) return `${status} after ${ahead}`;
  if (status === "seen") {
    if (earlier.includes("failed")) return "seen after failed";
    if (!earlier.includes("delivered")) return "seen before delivered";
  }
  return undefined;
}

export interface StoredFile {
  bytes: Uint8Array;
  mimeType: string;
  expireAt: number;
}

/** Statuses after which DFO opens a new contact (case) for the thread's next message. */
const ENDED: ReadonlySet<ContactStatusName> = new Set(["closed", "trashed"]);
const key = (channelId: string, id: string) => `${channelId}\n${id}`;

/** Everything the emulated DFO knows; plain data so tests and the soak can read it. */
export class DfoState {
  threads = new Map<string, DfoThread>();
  contacts = new Map<string, DfoContact>();
  /** idOnExternalPlatform → status updates in arrival order. */
  statuses = new Map<string, StatusRecord[]>();
  files = new Map<string, StoredFile>();
  /** Token requests the bridge made to CXone. */
  tokenRequests = 0;
  /** What CXone's side of the callbacks saw: token requests to the bridge, calls made, sent without a token, answered 401. */
  bridgeTokenRequests = 0;
  callbacks = 0;
  callbacksWithoutToken = 0;
  unauthorizedCallbacks = 0;
  /** Status updates that came out of order (each is also marked `regression` in `statuses`). */
  statusRegressions = 0;
  /** DFO API calls by route, e.g. "POST /dfo/3.0/channels/:id/messages". */
  calls: Record<string, number> = {};
  /** Messages CXone knows in each channel by idOnExternalPlatform: what status updates may name. */
  private byExternalId = new Map<string, DfoMessage>();
  private contactSeq = 0;
  // Contact ids are unique across emulator instances, as a tenant's are: tests that start a fresh
  // emulator per case share one D1, where a repeated id would be taken for the same contact.
  private readonly contactBase = 1_000_000_000 + Math.floor(Math.random() * 8_000_000) * 100;

  count(what: string): void {
    this.calls[what] = (this.calls[what] ?? 0) + 1;
  }

  thread(channelId: string, threadId: string, threadName?: string): DfoThread {
    const k = key(channelId, threadId);
    let thread = this.threads.get(k);
    if (!thread) {
      thread = { id: crypto.randomUUID(), channelId, threadId, contactIds: [], messages: [] };
      this.threads.set(k, thread);
    }
    if (threadName !== undefined) thread.threadName = threadName;
    return thread;
  }

  /** The contact a new message in the thread joins: the current one, or a new one once it has ended. */
  contactFor(thread: DfoThread, at: string): DfoContact {
    const current = this.contacts.get(thread.contactIds.at(-1) ?? "");
    if (current && !ENDED.has(current.status)) return current;
    this.contactSeq += 1;
    const contact: DfoContact = {
      id: String(this.contactBase + this.contactSeq),
      channelId: thread.channelId,
      threadId: thread.threadId,
      status: "open",
      createdAt: at,
      history: [{ status: "open", at }],
    };
    this.contacts.set(contact.id, contact);
    thread.contactIds.push(contact.id);
    return contact;
  }

  message(channelId: string, idOnExternalPlatform: string): DfoMessage | undefined {
    return this.byExternalId.get(key(channelId, idOnExternalPlatform));
  }

  add(thread: DfoThread, message: DfoMessage): void {
    thread.messages.push(message);
    if (message.idOnExternalPlatform !== undefined) this.byExternalId.set(key(thread.channelId, message.idOnExternalPlatform), message);
  }

  /** Records a status update in the message's history, marking (and counting) one out of order. */
  recordStatus(idOnExternalPlatform: string, record: StatusRecord): void {
    const history = this.statuses.get(idOnExternalPlatform) ?? [];
    // The message's updates in its channel (statuses are filed by the bridge's id, which another channel may reuse).
    const earlier = history.filter((r) => r.channelId === record.channelId).map((r) => r.status);
    const regression = statusRegression(earlier, record.status);
    if (regression) {
      record.regression = regression;
      this.statusRegressions += 1;
    }
    history.push(record);
    this.statuses.set(idOnExternalPlatform, history);
  }

  /** The threads as /_emu/threads shows them: each with its contacts and messages in order. */
  threadsView() {
    return [...this.threads.values()].map((t) => ({
      ...t,
      contacts: t.contactIds.map((id) => {
        const { status, createdAt } = this.contacts.get(id)!;
        return { id, status, createdAt };
      }),
    }));
  }
}
