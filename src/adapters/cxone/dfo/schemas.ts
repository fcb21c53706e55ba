import { z } from "zod";

/**
 * DFO 3.0 (contract §8), both ways. Public evidence for this contract is partial, so CXone's bodies
 * are parsed tolerantly: unknown fields are kept, only what the bridge needs is required, ids may
 * come as numbers.
 */
const id = z.union([z.string().min(1), z.number()]).transform(String);

/** POST {CXONE_TOKEN_URL}, password grant with the access key. */
export const DfoTokenResponse = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive(),
  id_token: z.string().optional(),
});

/** GET …/.well-known/cxone-configuration?tenantId=… */
export const CxoneConfiguration = z.looseObject({ area: z.string().min(1).optional(), domain: z.string().min(1) });

/** POST /dfo/3.0/channels/{channelId}/messages → what the bridge reads of it. */
export const PostedMessage = z.looseObject({
  consumerContact: z.looseObject({ id: id.optional() }).optional(),
  message: z.looseObject({ id: id.optional() }).optional(),
});

/** POST /dfo/3.0/attachments/temporary */
export const TemporaryAttachment = z.looseObject({ id: id.optional(), url: z.url(), expireAt: z.string().optional() });

/** DFO's error body; a duplicate idOnExternalPlatform is told apart by its words, not only its status. */
export const DfoErrors = z.looseObject({ errors: z.array(z.looseObject({ message: z.string().optional(), errorCode: z.string().optional() })).optional() });

export interface NewDfoMessage {
  idOnExternalPlatform: string;
  thread: { idOnExternalPlatform: string; threadName: string };
  messageContent: { type: "TEXT"; payload: { text: string } };
  createdAtWithMilliseconds: string;
  direction: "inbound" | "outbound";
  authorEndUserIdentity: { idOnExternalPlatform: string; firstName: string };
  attachments?: { friendlyName: string; url: string }[];
  contact?: { customFields: { ident: string; value: string }[] };
  externalAttributes?: { key: string; value: string }[];
}

export interface DfoStatus {
  status: "delivered" | "seen" | "failed";
  updatedAt: string;
  reason?: string;
}

const Text = z.union([z.string(), z.looseObject({ content: z.string() })]);
const Party = z.looseObject({ idOnExternalPlatform: z.string().min(1).max(200) });
const ContentOf = z.looseObject({
  type: z.string().optional(),
  payload: z.looseObject({ text: Text.optional() }).optional(),
  fallbackText: z.string().optional(),
});

/**
 * An agent's reply as CXone calls the bridge with it (contract §8; fields the bridge needs):
 * `POST …/2.0/channel/:channelId/outbound` and the older `POST …/1.0/posts/:postId/messages`, whose
 * body is less well documented — so the content may also sit under `message`.
 */
export const ReplyCallback = z.looseObject({
  thread: Party.optional(),
  messageContent: ContentOf.optional(),
  endUserRecipients: z.array(Party).optional(),
  recipients: z.array(Party).optional(),
  attachments: z
    .array(z.looseObject({ url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }), friendlyName: z.string().optional(), mimeType: z.string().max(200).optional() }))
    .max(10)
    .optional(),
  brand: z.looseObject({ id: id.optional() }).optional(),
  channel: z.looseObject({ id: z.string().min(1).max(200).optional() }).optional(),
  id: id.optional(),
  message: z.looseObject({ id: id.optional(), messageContent: ContentOf.optional(), text: z.string().optional() }).optional(),
});
export type ReplyCallback = z.infer<typeof ReplyCallback>;
