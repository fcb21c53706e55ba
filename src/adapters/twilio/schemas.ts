import { z } from "zod";

/** The parts of Twilio's Message resource (api.v2010.account.message) the bridge reads. */
export const TwilioMessage = z.object({
  sid: z.string().min(1),
  status: z.string(),
  to: z.string().nullable().optional(),
  from: z.string().nullable().optional(),
  body: z.string().nullable().optional(),
  messaging_service_sid: z.string().nullable().optional(),
  num_segments: z.union([z.string(), z.number()]).nullable().optional(),
  error_code: z.union([z.number(), z.string()]).nullable().optional(),
  error_message: z.string().nullable().optional(),
  date_created: z.string().nullable().optional(),
});
export type TwilioMessage = z.infer<typeof TwilioMessage>;

export const TwilioMessagePage = z.object({
  messages: z.array(TwilioMessage),
  next_page_uri: z.string().nullable().optional(),
});

/** A send as the bridge asks for it; exactly one of `from` / `messagingServiceSid`. */
export interface OutgoingSms {
  to: string;
  body: string;
  from?: string;
  messagingServiceSid?: string;
  mediaUrls: string[];
  statusCallback: string;
  /** A WhatsApp template (contract §9): sent by its Content SID and variables instead of a Body. */
  content?: { sid: string; variables: Record<string, string> };
}
