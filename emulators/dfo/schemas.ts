import { z } from "zod";

/**
 * What the emulated DFO 3.0 API accepts, written from contract §8 and NICE's generated client on
 * their own (not shared with the bridge), so that a mistake in the bridge's bodies is caught
 * here rather than mirrored. Objects are loose: CXone ignores fields it does not know.
 */
const id = z.string().min(1);
const httpUrl = z.url({ protocol: /^https?$/, message: "must be an http(s) URL" });

const WHATSAPP_PREFIX = "whatsapp:";
/** A WhatsApp address as Twilio writes it: `whatsapp:` and an E.164 number. */
const WHATSAPP_ADDRESS = /^whatsapp:\+[1-9]\d{6,14}$/;

export const NewMessage = z.looseObject({
  idOnExternalPlatform: id,
  direction: z.enum(["inbound", "outbound"]),
  createdAtWithMilliseconds: z.iso.datetime({ precision: 3, offset: true, message: "must be ISO 8601 with milliseconds" }),
  thread: z.looseObject({ idOnExternalPlatform: id, threadName: z.string().optional() }),
  messageContent: z.looseObject({
    type: z.literal("TEXT"),
    // An MMS with no words is still a message: the text may be empty when attachments carry it.
    payload: z.looseObject({ text: z.string() }),
  }),
  authorEndUserIdentity: z.looseObject({
    idOnExternalPlatform: id,
    firstName: z.string().optional(),
    lastName: z.string().optional(),
  }),
  attachments: z.array(z.looseObject({ friendlyName: z.string().min(1), url: httpUrl })).optional(),
  contact: z
    .looseObject({ customFields: z.array(z.looseObject({ ident: z.string().min(1), value: z.string() })).optional() })
    .optional(),
  recipients: z.array(z.looseObject({ idOnExternalPlatform: id })).optional(),
}).superRefine((m, ctx) => {
  // A WhatsApp thread (contract §9) is named by the customer's whatsapp:+E.164 address, and its
  // customer is that same WhatsApp user: an SMS number on one side is the bridge mixing channels.
  // Other thread ids are taken as they come, as before.
  const thread = m.thread?.idOnExternalPlatform;
  const author = m.authorEndUserIdentity?.idOnExternalPlatform;
  const onWhatsApp = (s: unknown) => typeof s === "string" && s.startsWith(WHATSAPP_PREFIX);
  for (const [path, value] of [[["thread", "idOnExternalPlatform"], thread], [["authorEndUserIdentity", "idOnExternalPlatform"], author]] as const) {
    if (onWhatsApp(value) && !WHATSAPP_ADDRESS.test(value as string)) ctx.addIssue({ code: "custom", path: [...path], message: "must be whatsapp:+E.164" });
  }
  if (typeof thread === "string" && typeof author === "string" && onWhatsApp(thread) !== onWhatsApp(author)) {
    ctx.addIssue({ code: "custom", path: ["authorEndUserIdentity", "idOnExternalPlatform"], message: "must be on the thread's platform (whatsapp: on a WhatsApp thread only)" });
  }
});
export type NewMessage = z.infer<typeof NewMessage>;

/** 10 MB of decoded bytes: above what the bridge ever uploads (5 MB per MMS item), below DFO's totals. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

export const TemporaryAttachment = z.looseObject({
  content: z
    .string()
    .min(1)
    .refine((s) => !s.startsWith("data:"), { message: "must be raw base64, without a data: prefix", abort: true })
    .refine((s) => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s), { message: "must be base64", abort: true })
    .refine((s) => base64Length(s) <= MAX_ATTACHMENT_BYTES, "must be at most 10 MB decoded"),
  mimeType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, "must be a MIME type such as image/jpeg"),
});

export function base64Length(s: string): number {
  return (s.length / 4) * 3 - (s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0);
}

export const MessageStatus = z.looseObject({
  status: z.enum(["delivered", "seen", "failed"]),
  updatedAt: z.iso.datetime({ offset: true, message: "must be ISO 8601" }),
  reason: z.string().optional(),
});
export type MessageStatus = z.infer<typeof MessageStatus>;

export const ContactStatus = z.looseObject({
  status: z.enum(["closed", "open", "pending", "resolved", "escalated", "new", "trashed"]),
  updatedByUserId: z.number().int().optional(),
});
export type ContactStatusName = z.infer<typeof ContactStatus>["status"];

/** An agent's reply, as the emulator's caller describes it (see agent.ts for the body CXone sends). */
export const AgentReplyInput = z.object({
  channelId: id,
  threadId: id,
  text: z.string(),
  attachments: z.array(z.object({ url: z.string().min(1), friendlyName: z.string().optional(), mimeType: z.string().optional() })).optional(),
  /** "2.0": the DFO 3.0 outbound API callback; "1.0": the older posts form. */
  form: z.enum(["2.0", "1.0"]).default("2.0"),
  /** CXone's message id in the body: the reply's own id by default, this string instead, or left out (null). */
  cxoneMessageId: z.string().nullable().optional(),
  /** The key of the recipient list: the box callback's, or the agent API's. */
  recipientsKey: z.enum(["endUserRecipients", "recipients"]).default("endUserRecipients"),
  /** The reply's DFO message id (generated when absent). */
  id: z.string().min(1).optional(),
  /**
   * The bridge's answer never reaches CXone (its call timed out after the bridge took the reply):
   * nothing is recorded and CXone will deliver the reply again — the soak's stand-in for a reply
   * the bridge must not send twice.
   */
  answerLost: z.boolean().optional(),
});
export type AgentReplyInput = z.input<typeof AgentReplyInput>;

export const SenderActionInput = z.object({
  channelId: id,
  threadId: id,
  action: z.enum(["isTypingOn", "isTypingOff"]),
});
export type SenderActionInput = z.infer<typeof SenderActionInput>;
