import { z } from "zod";
import { E164_RULE, isE164, isSenderKey } from "../../domain/compliance/e164";

const e164 = z.string().refine(isE164, E164_RULE);

export const Attachment = z.object({
  url: z.url({ protocol: /^https?$/ }),
  contentType: z.string().max(200).optional(),
});

/**
 * An agent's (or bot's) reply as the bridge takes it, whichever way it came: the body CXone pushes
 * to /cxone/outbound and lists in its poll (open-messaging, contract §3–4), or what a DFO reply
 * callback is turned into (contract §8). `to` must be E.164; `from`, when given, is a number, a short
 * code or a Messaging Service SID.
 */
export const OutboundItem = z.object({
  id: z.string().min(1).max(200),
  conversationId: z.string().min(1).max(200),
  to: e164,
  body: z.string().max(1600),
  from: z
    .string()
    .refine(isSenderKey, "must be an E.164 number, a short code or a Messaging Service SID")
    .nullish(),
  direction: z.literal("OUTBOUND").optional(),
  channel: z.literal("SMS").optional(),
  status: z.string().optional(),
  createdTime: z.iso.datetime({ offset: true }).optional(),
  attachments: z.array(Attachment).max(10).optional(),
});
export type OutboundItem = z.infer<typeof OutboundItem>;

