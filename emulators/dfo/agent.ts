import { AgentReplyInput, SenderActionInput } from "./schemas";
import type { DfoState } from "./state";

/**
 * CXone's side of the BYOC callbacks: it calls the bridge's integration box (an agent's reply,
 * a typing indicator) and is the OAuth client of the bridge's token endpoint. As NICE's sample
 * middleware documents it, a call goes out with the token CXone holds (none at first); a 401
 * makes CXone ask for a token and call once more.
 */
export interface AgentSideOptions {
  state: DfoState;
  /** The bridge's base; its BYOC routes are under `${bridgeUrl}/cxone/dfo`. */
  bridgeUrl: string;
  byocClientId: string;
  byocClientSecret: string;
  fetch: typeof fetch;
  now: () => number;
}

export interface CallbackResult {
  status: number;
  /** The bridge's answer: parsed JSON, else its text (null when empty). */
  answer: unknown;
  tokenRequested: boolean;
  attempts: number;
  /** The token endpoint's status, when a token was asked for and none came back. */
  tokenStatus?: number;
}

const BRAND = { id: 1234 };
const AUTHOR = { id: 42, firstName: "Agent", surname: "Smith" };
const enc = encodeURIComponent;

async function answerOf(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The id the bridge gave the reply: `message.idOnExternalPlatform` (2.0 answer) or top-level (NICE's 1.0 sample). */
function acknowledgedId(answer: unknown): string | undefined {
  const a = answer as { idOnExternalPlatform?: unknown; message?: { idOnExternalPlatform?: unknown } } | null;
  const id = a?.message?.idOnExternalPlatform ?? a?.idOnExternalPlatform;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** What CXone calls an attachment when the agent's upload had no name: the URL's last path segment. */
function fileName(url: string): string {
  const last = url.split(/[?#]/)[0]!.split("/").pop() || "attachment";
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export function agentSide(o: AgentSideOptions) {
  const { state } = o;
  let held: { token: string; expiresAt: number } | undefined;

  async function requestToken(): Promise<{ token?: string; status: number }> {
    state.bridgeTokenRequests += 1;
    const res = await o.fetch(`${o.bridgeUrl}/cxone/dfo/token`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ grant_type: "client_credentials", client_id: o.byocClientId, client_secret: o.byocClientSecret }),
    });
    const answer = (await answerOf(res)) as { access_token?: unknown; expires_in?: unknown } | null;
    if (res.status !== 200 || typeof answer?.access_token !== "string") return { status: res.status };
    // Without expires_in (some middlewares leave it out) the token is used until it earns a 401.
    const ttl = typeof answer.expires_in === "number" ? answer.expires_in * 1000 : Infinity;
    held = { token: answer.access_token, expiresAt: o.now() + ttl };
    return { token: held.token, status: res.status };
  }

  async function post(url: string, body: unknown, token: string | undefined) {
    state.callbacks += 1;
    if (!token) state.callbacksWithoutToken += 1;
    const res = await o.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.status === 401) state.unauthorizedCallbacks += 1;
    return { status: res.status, answer: await answerOf(res) };
  }

  async function deliver(url: string, body: unknown): Promise<CallbackResult> {
    const first = await post(url, body, held && held.expiresAt > o.now() ? held.token : undefined);
    if (first.status !== 401) return { ...first, tokenRequested: false, attempts: 1 };
    held = undefined;
    const granted = await requestToken();
    if (!granted.token) return { ...first, tokenRequested: true, attempts: 1, tokenStatus: granted.status };
    return { ...(await post(url, body, granted.token)), tokenRequested: true, attempts: 2 };
  }

  /** An agent's reply in a thread, delivered to the bridge; recorded in the thread once the bridge answers 200. */
  async function agentReply(input: AgentReplyInput): Promise<CallbackResult & { id: string; answerLost?: boolean }> {
    const r = AgentReplyInput.parse(input);
    const id = r.id ?? crypto.randomUUID();
    const createdAtWithMilliseconds = new Date(o.now()).toISOString();
    const cxoneMessageId = r.cxoneMessageId === undefined ? id : (r.cxoneMessageId ?? undefined);
    const attachments = r.attachments?.map((a) => ({ url: a.url, friendlyName: a.friendlyName ?? fileName(a.url), ...(a.mimeType ? { mimeType: a.mimeType } : {}) }));
    const body = {
      brand: BRAND,
      channel: { id: r.channelId },
      thread: { idOnExternalPlatform: r.threadId },
      messageContent: { type: "TEXT", payload: { text: r.text } },
      [r.recipientsKey]: [{ idOnExternalPlatform: r.threadId, name: r.threadId, isPrimary: true, isPrivate: false }],
      ...(attachments ? { attachments } : {}),
      authorUser: AUTHOR,
      ...(cxoneMessageId !== undefined ? { id: cxoneMessageId } : {}),
      createdAtWithMilliseconds,
    };
    const path = r.form === "2.0" ? `2.0/channel/${enc(r.channelId)}/outbound` : `1.0/posts/${enc(r.threadId)}/messages`;
    const result = await deliver(`${o.bridgeUrl}/cxone/dfo/${path}`, body);
    if (r.answerLost) return { ...result, id, answerLost: true };
    const ack = acknowledgedId(result.answer);
    // The same reply acknowledged again under the same id is one message, not two.
    if (result.status === 200 && (ack === undefined || !state.message(r.channelId, ack))) {
      const receivedAt = new Date(o.now()).toISOString();
      // An agent may open the conversation (DFO's outbound API): the thread and contact are created then.
      const thread = state.thread(r.channelId, r.threadId);
      state.add(thread, {
        id,
        ...(ack !== undefined ? { idOnExternalPlatform: ack } : {}),
        direction: "outbound",
        text: r.text,
        attachments: attachments ?? [],
        createdAtWithMilliseconds,
        receivedAt,
        contactId: state.contactFor(thread, receivedAt).id,
        agentReply: { form: r.form, ...(cxoneMessageId !== undefined ? { cxoneMessageId } : {}) },
      });
    }
    return { ...result, id };
  }

  /** A typing indicator for the thread; the HTTP status the bridge finally answered. */
  async function senderAction(input: SenderActionInput): Promise<number> {
    const { channelId, threadId, action } = SenderActionInput.parse(input);
    const url = `${o.bridgeUrl}/cxone/dfo/1.0/channel/${enc(channelId)}/thread/${enc(threadId)}/sender-action`;
    return (await deliver(url, { brand: BRAND, senderAction: { action }, authorUser: AUTHOR })).status;
  }

  return { agentReply, senderAction };
}
