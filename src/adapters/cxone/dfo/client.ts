import type { Ready } from "../../../config";
import { AppError } from "../../../errors";
import { parseUpstream } from "../../http";
import { cxoneCaller, isUpstreamStatus } from "../call";
import type { TokenSource } from "../token";
import { DfoErrors, PostedMessage, TemporaryAttachment, type DfoStatus, type NewDfoMessage } from "./schemas";

/** The DFO 3.0 calls the bridge makes (contract §8). Every failure is an AppError; 404/409 keep their status. */
export interface DfoApi {
  /** A message into a channel's thread; `undefined` when CXone already has its idOnExternalPlatform. */
  postMessage(channelId: string, body: NewDfoMessage): Promise<{ contactId?: string; messageId?: string } | undefined>;
  uploadAttachment(bytes: Uint8Array, mimeType: string): Promise<{ url: string }>;
  updateStatus(channelId: string, idOnExternalPlatform: string, body: DfoStatus): Promise<void>;
  closeContact(contactId: string): Promise<void>;
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

export function dfoClient(config: Ready<"dfo">, tokens: TokenSource): DfoApi {
  // CXONE_API_BASE when set; otherwise the origin discovered with the token (contract §8).
  const call = cxoneCaller(tokens, (token) => config.CXONE_API_BASE ?? token.apiBase, config.UPSTREAM_TIMEOUT_MS);
  return {
    async postMessage(channelId, body) {
      try {
        const res = await call("POST", `/dfo/3.0/channels/${path(channelId)}/messages`, "the message post", body);
        const posted = await parseUpstream("cxone", res, PostedMessage, "the message post");
        return { contactId: posted.consumerContact?.id, messageId: posted.message?.id };
      } catch (err) {
        if (await isDuplicate(err)) return undefined;
        throw err;
      }
    },

    async uploadAttachment(bytes, mimeType) {
      const res = await call("POST", "/dfo/3.0/attachments/temporary", "the attachment upload", { content: base64(bytes), mimeType });
      return parseUpstream("cxone", res, TemporaryAttachment, "the attachment upload");
    },

    async updateStatus(channelId, idOnExternalPlatform, body) {
      const res = await call("PUT", `/dfo/3.0/channels/${path(channelId)}/messages/${path(idOnExternalPlatform)}/status`, "the status update", body);
      await res.body?.cancel();
    },

    async closeContact(contactId) {
      const res = await call("PUT", `/dfo/3.0/contacts/${path(contactId)}/status`, "the contact close", { status: "closed" });
      await res.body?.cancel();
    },
  };
}

/**
 * contract §8: a 409, or an answer saying the idOnExternalPlatform exists already, means CXone has the
 * message (a repeat after a lost answer). DFO documents no idempotency; this is read from words.
 */
async function isDuplicate(err: unknown): Promise<boolean> {
  if (isUpstreamStatus(err, 409)) return true;
  if (!(err instanceof AppError) || err.upstreamStatus === undefined || err.upstreamStatus >= 500) return false;
  const said = DfoErrors.safeParse(err.upstreamBody).data?.errors ?? [];
  return said.some((e) => /already exists|duplicate/i.test(`${e.errorCode ?? ""} ${e.message ?? ""}`));
}

/** Base64 of raw bytes (no data: prefix, as DFO wants it), in chunks so large items do not overflow the stack. */
function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
