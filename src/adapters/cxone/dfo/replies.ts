import type { ReplyCallback } from "./schemas";

/** An agent's reply as the bridge reads it out of CXone's callback, before it is an outbound item. */
export interface DfoReply {
  /** CXone's own id of the message, when the body carries one: the dedupe key. */
  cxoneId?: string;
  thread: string;
  /** Who gets the SMS, and the body path it came from (for a 400 naming the field). */
  to: { value: string; field: string };
  text: string;
  attachments: { url: string; name?: string; mimeType?: string }[];
}

/**
 * Reads what the bridge needs (contract §8) out of a reply callback, tolerantly: the text from TEXT
 * content or the plain text of richer content (quick replies, list pickers carry `{content}`) or
 * the fallback text; the recipient from `endUserRecipients`, else `recipients` (the key CXone's
 * agent side uses), else the thread, else — the older route — the post id in the path.
 * Undefined when there is no thread to answer in at all.
 */
export function replyOf(body: ReplyCallback, postId?: string): DfoReply | undefined {
  const thread = body.thread?.idOnExternalPlatform ?? postId;
  if (!thread) return undefined;
  const content = body.messageContent ?? body.message?.messageContent;
  const payloadText = content?.payload?.text;
  const text = (typeof payloadText === "string" ? payloadText : payloadText?.content) ?? content?.fallbackText ?? body.message?.text ?? "";
  const recipient = body.endUserRecipients?.[0]
    ? { value: body.endUserRecipients[0].idOnExternalPlatform, field: "endUserRecipients.0.idOnExternalPlatform" }
    : body.recipients?.[0]
      ? { value: body.recipients[0].idOnExternalPlatform, field: "recipients.0.idOnExternalPlatform" }
      : { value: thread, field: body.thread ? "thread.idOnExternalPlatform" : "postId" };
  const cxoneId = body.id ?? body.message?.id;
  return {
    ...(cxoneId ? { cxoneId } : {}),
    thread,
    to: recipient,
    text,
    attachments: (body.attachments ?? []).map((a) => ({ url: a.url, ...(a.friendlyName ? { name: a.friendlyName } : {}), ...(a.mimeType ? { mimeType: a.mimeType } : {}) })),
  };
}
