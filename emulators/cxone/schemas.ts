import { z } from "zod";

/**
 * What the emulated CXone accepts, written from contract §4 on its own (not shared with the bridge),
 * so that a mistake in the bridge's payloads is caught here rather than mirrored.
 */
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, "must be E.164");

export const CreateConversation = z.object({
  channel_type: z.literal("sms"),
  initiated_by: z.enum(["customer", "business"]),
  direction: z.enum(["inbound", "outbound"]),
  proactive: z.boolean().optional(),
  participants: z
    .array(z.object({ role: z.literal("customer"), address: e164, address_type: z.literal("phone") }).strict())
    .length(1),
  routing: z.object({ strategy: z.literal("agent") }).strict().optional(),
  status: z.literal("active"),
  properties: z.record(z.string(), z.unknown()),
}).strict();

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
  metadata: z.record(z.string(), z.unknown()).optional(),
}).strict();

const ReportStatus = z.enum(["SENT", "DELIVERED", "FAILED", "UNDELIVERABLE"]);

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
  channel: z.literal("SMS"),
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
  attachments: z.array(z.object({ url: z.string(), contentType: z.string().optional() })).optional(),
  createdTime: z.string().optional(),
  /** Push to the bridge's /cxone/outbound as well as listing it in the poll feed. */
  push: z.boolean().default(false),
  id: z.string().optional(),
});
export type AgentReply = z.input<typeof AgentReply>;
