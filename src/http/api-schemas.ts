import { z } from "zod";
import { E164_RULE, isE164, isSenderKey, isWhatsApp } from "../domain/compliance/e164";

/**
 * The bridge's own API (/v1 for business systems, /admin for operators): the zod schemas the
 * routes validate with, which are also what GET /openapi.json describes — one source for both.
 */
export const MAX_BATCH = 100_000;

export const E164 = z.string().refine(isE164, E164_RULE).meta({ description: "E.164: + and 7–15 digits", examples: ["+14155550100"] });
const Sender = z
  .string()
  .refine(isSenderKey, "must be an E.164 number, a short code, whatsapp:+ and a number, or a Messaging Service SID")
  .meta({ description: "the sending number (E.164 or short code), WhatsApp sender (whatsapp:+…) or Messaging Service SID (MG…)" });
const Text = z
  .string()
  .min(1, "must not be empty")
  .max(1600)
  .meta({ description: "free text, required unless a template is given; on WhatsApp only within 24 hours of the customer's last message" });
const Channel = z.enum(["sms", "whatsapp"]).default("sms").meta({ description: "whatsapp sends to whatsapp:+<to> from a WhatsApp sender" });
export const Template = z
  .object({
    name: z.string().regex(/^[a-z0-9_]{1,512}$/, "must be a template name (lower case, digits, _)"),
    language: z
      .string()
      .regex(/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$/, "must be a language code such as es or pt_BR")
      .optional(),
    parameters: z.array(z.object({ type: z.literal("text"), text: z.string().min(1).max(1024) }).strict()).max(100).default([]),
  })
  .strict()
  .meta({ description: "a WhatsApp template from WHATSAPP_TEMPLATES; parameters fill {{1}}, {{2}}, … in order" });

/** Free text or a template, and a template only on WhatsApp from a WhatsApp sender (contract §9). */
export function checkContent(v: { channel: "sms" | "whatsapp"; text?: unknown; template?: unknown; from?: string }, ctx: z.RefinementCtx, needContent = true) {
  if (v.text !== undefined && v.template !== undefined) ctx.addIssue({ code: "custom", path: ["template"], message: "give text or template, not both" });
  if (needContent && v.text === undefined && v.template === undefined) ctx.addIssue({ code: "custom", path: ["text"], message: "is required (or template, on WhatsApp)" });
  if (v.template !== undefined && v.channel !== "whatsapp") ctx.addIssue({ code: "custom", path: ["template"], message: "templates are for channel whatsapp" });
  if (v.from !== undefined && (v.channel === "whatsapp") !== isWhatsApp(v.from)) {
    ctx.addIssue({ code: "custom", path: ["from"], message: v.channel === "whatsapp" ? "must be a WhatsApp sender (whatsapp:+…) for channel whatsapp" : "a WhatsApp sender needs channel whatsapp" });
  }
}
const Key = z.string().min(1).max(200).meta({ description: "the same key again returns the first answer, never a second SMS" });
const CampaignId = z.string().min(1).max(200);
const CustomFields = z
  .record(z.string().min(1).max(64), z.union([z.string().max(500), z.number(), z.boolean()]))
  .refine((r) => Object.keys(r).length <= 50, "at most 50 fields")
  .optional()
  .meta({ description: "passed to CXone with the conversation (open-messaging: properties; DFO: contact custom fields)" });

export const ProactiveSingle = z
  .object({ to: E164, channel: Channel, text: Text.optional(), template: Template.optional(), campaignId: CampaignId, idempotencyKey: Key, from: Sender.optional(), customFields: CustomFields })
  .strict()
  .superRefine((v, ctx) => checkContent(v, ctx));
/** One recipient of a batch; checked item by item so one bad recipient is refused, not the batch. */
export const BatchItem = z.object({ to: E164, text: Text.optional(), template: Template.optional(), idempotencyKey: Key, customFields: CustomFields });
const LooseItem = z
  .object({ to: z.unknown().optional(), text: z.unknown().optional(), template: z.unknown().optional(), idempotencyKey: z.unknown().optional(), customFields: z.unknown().optional() })
  .strict();
/** A batch's `template` is the one its recipients without text or template of their own get. */
const batchOf = <T extends z.ZodType>(item: T) =>
  z
    .object({
      campaignId: CampaignId,
      from: Sender.optional(),
      channel: Channel,
      template: Template.optional(),
      messages: z.array(item).min(1).max(MAX_BATCH, `at most ${MAX_BATCH} recipients per batch`),
    })
    .strict()
    .superRefine((v, ctx) => checkContent(v, ctx, false));
/** What the route parses; the description shows the items' real shape. */
export const ProactiveBatch = batchOf(LooseItem);
export const ProactiveBatchDoc = batchOf(BatchItem);

export const ProactiveAnswer = z.object({ conversationId: z.string(), messageId: z.string(), status: z.string().meta({ description: "queued, deferred, sent, refused, …" }) });
export const BatchAnswer = z.object({ batchId: z.string(), accepted: z.number().int(), refused: z.array(z.object({ to: z.unknown(), reason: z.string() })) });
export const BatchStatus = z.object({
  batchId: z.string(),
  campaignId: z.string(),
  total: z.number().int(),
  counts: z.object({ queued: z.number().int(), deferred: z.number().int(), sent: z.number().int(), delivered: z.number().int(), failed: z.number().int(), refused: z.number().int() }),
});

export const PhoneParam = z.object({ phone: E164 });
export const BusinessKey = z.string().refine((v) => v === "*" || isSenderKey(v), "must be an E.164 number, a short code, an MG SID or *");
export const OptOutBody = z.object({ business: BusinessKey.default("*").meta({ description: "the business number or MG SID the customer is suppressed for; * for all" }) }).strict();
export const DeadLetterLimit = z.coerce.number().int().min(1).max(500).default(100);
export const DeadLetterId = z.coerce.number().int().positive({ error: "must be a dead letter id" });

export const ErrorBody = z.object({ error: z.string().meta({ description: "a stable code, e.g. invalid_request" }), message: z.string() });
