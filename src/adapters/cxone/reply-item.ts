import { z } from "zod";
import { channelOf, CUSTOMER_RULE, isCustomerAddress, isSenderKey, isWhatsApp, onChannel } from "../../domain/compliance/e164";

const customer = z.string().refine(isCustomerAddress, CUSTOMER_RULE);

export const Attachment = z.object({
  url: z.url({ protocol: /^https?$/ }),
  contentType: z.string().max(200).optional(),
});

/**
 * An agent's (or bot's) reply as the bridge takes it, whichever way it came: the body CXone pushes
 * to /cxone/outbound and lists in its poll (open-messaging, contract §3–4), or what a DFO reply
 * callback is turned into (contract §8). `to` must be E.164 or whatsapp:+E.164; `from`, when given,
 * is a number, a short code, a WhatsApp sender or a Messaging Service SID. A reply is WhatsApp when
 * its channel says so or its `to` does (contract §9); it comes out of the parse with `channel` set
 * and a `whatsapp:` recipient either way, so nothing downstream guesses again.
 */
export const OutboundItem = z
  .object({
    id: z.string().min(1).max(200),
    conversationId: z.string().min(1).max(200),
    to: customer,
    // WhatsApp's limit, and SMS's longest concatenation Twilio takes: refused before sending.
    body: z.string().max(1600),
    from: z
      .string()
      .refine(isSenderKey, "must be an E.164 number, a short code, whatsapp:+ and a number, or a Messaging Service SID")
      .nullish(),
    direction: z.literal("OUTBOUND").optional(),
    channel: z.enum(["SMS", "WHATSAPP"]).optional(),
    status: z.string().optional(),
    createdTime: z.iso.datetime({ offset: true }).optional(),
    attachments: z.array(Attachment).max(10).optional(),
  })
  // A reply that names both channels is not sent from a guess: the agent hears of it at once.
  .superRefine((item, ctx) => {
    if (item.channel === "SMS" && channelOf(item.to) === "whatsapp") ctx.addIssue({ code: "custom", path: ["channel"], message: "is SMS but to is a WhatsApp address" });
    const whatsapp = item.channel === "WHATSAPP" || channelOf(item.to) === "whatsapp";
    if (item.from && whatsapp !== isWhatsApp(item.from)) {
      ctx.addIssue({ code: "custom", path: ["from"], message: whatsapp ? "must be a WhatsApp sender (whatsapp:+…) for a WhatsApp reply" : "is a WhatsApp sender but the reply is SMS" });
    }
  })
  .transform((item) => {
    const channel = item.channel === "WHATSAPP" || channelOf(item.to) === "whatsapp" ? "whatsapp" : "sms";
    return { ...item, to: onChannel(item.to, channel), channel: channel === "whatsapp" ? ("WHATSAPP" as const) : ("SMS" as const) };
  });
export type OutboundItem = z.input<typeof OutboundItem>;

