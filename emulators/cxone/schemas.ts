import { z } from "zod";

/**
 * What the emulated CXone accepts, written from contract §4 on its own (not shared with the bridge),
 * so that a mistake in the bridge's payloads is caught here rather than mirrored.
 */
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, "must be E.164");

/** A WhatsApp address as Twilio writes it (contract §9): `whatsapp:` and an E.164 number. */
const whatsapp = z.string().regex(/^whatsapp:\+[1-9]\d{6,14}$/, "must be whatsapp:+E.164");
const messagingService = z.string().regex(/^MG[0-9a-fA-F]{32}$/);

/** The channel types a conversation may have, and the shape of the customer's address in each. */
export const ChannelType = z.enum(["sms", "whatsapp"]);
export type ChannelType = z.infer<typeof ChannelType>;
export const ADDRESS_TYPE = { sms: "phone", whatsapp: "whatsapp" } as const satisfies Record<ChannelType, string>;
const ADDRESS = { sms: e164, whatsapp } as const satisfies Record<ChannelType, z.ZodType<string>>;
/** The channel the open-messaging poll and items name (contract §4, §9). */
export const FeedChannel = z.enum(["SMS", "WHATSAPP"]);
export type FeedChannel = z.infer<typeof FeedChannel>;
export const FEED_CHANNEL = { sms: "SMS", whatsapp: "WHATSAPP" } as const satisfies Record<ChannelType, FeedChannel>;

export const CreateConversation = z
  .object({
    channel_type: ChannelType,
    initiated_by: z.enum(["customer", "business"]),
    direction: z.enum(["inbound", "outbound"]),
    proactive: z.boolean().optional(),
    participants: z
      .array(
        z
          .object({
            role: z.literal("customer"),
            address: z.string(),
            address_type: z.enum(["phone", "whatsapp"]),
            display_name: z.string().optional(),
          })
          .strict(),
      )
      .length(1),
    routing: z.object({ strategy: z.literal("agent") }).strict().optional(),
    status: z.literal("active"),
    properties: z.record(z.string(), z.unknown()),
  })
  .strict()
  .superRefine((body, ctx) => {
    // The participant's address (and the business number, when it is one) must be the channel's kind:
    // E.164 and "phone" for SMS, whatsapp:+E.164 and "whatsapp" for WhatsApp.
    const channel = body.channel_type;
    const [participant] = body.participants;
    if (participant) {
      const address = ADDRESS[channel].safeParse(participant.address);
      if (!address.success) ctx.addIssue({ code: "custom", path: ["participants", 0, "address"], message: `${address.error.issues[0]!.message} for channel_type ${channel}` });
      if (participant.address_type !== ADDRESS_TYPE[channel]) {
        ctx.addIssue({ code: "custom", path: ["participants", 0, "address_type"], message: `must be "${ADDRESS_TYPE[channel]}" for channel_type ${channel}` });
      }
    }
    // A WhatsApp conversation's business number is its WhatsApp sender (a Messaging Service that
    // carries WhatsApp senders may stand for it); an SMS number there is the bridge mixing channels.
    const business = body.properties.business_number;
    if (channel === "whatsapp" && business !== undefined && !(whatsapp.safeParse(business).success || messagingService.safeParse(business).success)) {
      ctx.addIssue({ code: "custom", path: ["properties", "business_number"], message: "must be whatsapp:+E.164 (or a Messaging Service SID) for channel_type whatsapp" });
    }
    if (channel === "sms" && typeof business === "string" && business.startsWith("whatsapp:")) {
      ctx.addIssue({ code: "custom", path: ["properties", "business_number"], message: "a WhatsApp sender in an sms conversation" });
    }
  });

/** The participant address a find may name for the channel type: only WhatsApp's is checked (SMS as before). */
export function addressProblem(channel: ChannelType, address: string): string | undefined {
  if (channel === "whatsapp") return whatsapp.safeParse(address).success ? undefined : "participant_address must be whatsapp:+E.164 for channel_type=whatsapp";
  return address.startsWith("whatsapp:") ? "participant_address is a WhatsApp address: use channel_type=whatsapp" : undefined;
}

export const UpdateConversation = z.object({
  status: z.enum(["active", "closed"]).optional(),
  archived: z.boolean().optional(),
  routing: z.object({ refresh_carrier_route: z.boolean() }).strict().optional(),
}).strict();

export const AppendMessage = z.object({
  direction: z.enum(["inbound", "outbound"]),
  type: z.literal("text"),
  content: z
    .object({
      text: z.string(),
      media: z.array(z.object({ url: z.url(), contentType: z.string() }).strict()).optional(),
    })
    .strict(),
  // Loose, as CXone keeps what it is given; a WhatsApp sender's profile name, when sent, is text.
  metadata: z.looseObject({ profile_name: z.string().optional() }).optional(),
}).strict();

/** READ (a WhatsApp read receipt, contract §9) comes after DELIVERED; see `reportRegression` in state.ts. */
export const ReportStatus = z.enum(["SENT", "DELIVERED", "FAILED", "UNDELIVERABLE", "READ"]);
export type ReportStatus = z.infer<typeof ReportStatus>;

export const StatusUpdate = z.object({
  status: ReportStatus,
  deliveryReceipt: z
    .object({
      status: ReportStatus,
      timestamp: z.iso.datetime({ offset: true }),
      providerMessageId: z.string().optional(),
      errorCode: z.string().optional(),
      errorMessage: z.string().optional(),
    })
    .strict(),
}).strict();

export const PollQuery = z.object({
  channel: FeedChannel,
  direction: z.literal("OUTBOUND"),
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().optional(),
}).strict();

export const AgentReply = z.object({
  conversationId: z.string(),
  body: z.string(),
  /** Override the recipient/sender CXone would put in the item (null: leave `from` out). */
  to: z.string().optional(),
  from: z.string().nullable().optional(),
  /** Override the item's channel (default: the conversation's; without one, WHATSAPP when `to` is a whatsapp: address). */
  channel: FeedChannel.optional(),
  attachments: z.array(z.object({ url: z.string(), contentType: z.string().optional() })).optional(),
  createdTime: z.string().optional(),
  /** Push to the bridge's /cxone/outbound as well as listing it in the poll feed. */
  push: z.boolean().default(false),
  id: z.string().optional(),
});
export type AgentReply = z.input<typeof AgentReply>;
