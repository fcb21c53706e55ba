import { z } from "zod";
import { newSid } from "./messages";

/**
 * A customer's MMS items as Twilio keeps them. Twilio hands a MediaUrl out on its API origin
 * (`/2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}`), answers it only with the account's
 * credentials (when the account requires HTTP auth for media, as the bridge must assume), and
 * then redirects to its CDN, which serves the bytes to anyone holding the link.
 */
export interface StoredMedia {
  sid: string;
  messageSid: string;
  contentType: string;
  size: number;
  /** Real bytes; without them `size` synthetic bytes are made when fetched (a 6 MB item costs nothing until then). */
  bytes?: Uint8Array;
}

/** Far above the 5 MB the bridge takes, low enough that one request cannot exhaust the emulator. */
export const MAX_MEDIA_BYTES = 32 * 1024 * 1024;

const base64 = z
  .string()
  .min(1)
  .refine((s) => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s), "must be base64 (no data: prefix)");

const contentFields = {
  contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, "must be a MIME type such as image/png"),
  base64: base64.optional(),
  size: z.number().int().min(0).max(MAX_MEDIA_BYTES).optional(),
};
const oneSource = (m: { base64?: string; size?: number }) => (m.base64 === undefined) !== (m.size === undefined);
const oneSourceError = { message: "give exactly one of base64 or size", path: ["base64"] };

/** An item described by its bytes (`base64`) or only by its length (`size`, e.g. to test the 5 MB refusal). */
export const MediaContent = z.object(contentFields).refine(oneSource, oneSourceError);
export type MediaContent = z.infer<typeof MediaContent>;

/** POST /_emu/media: an item on its own, under a message of the caller's choosing or a fresh one. */
export const MediaInput = z.object({ ...contentFields, messageSid: z.string().regex(/^(MM|SM)[0-9a-f]{32}$/, "must be a Message SID (MM… or SM…)").optional() }).refine(oneSource, oneSourceError);
export type MediaInput = z.infer<typeof MediaInput>;

export class MediaStore {
  private items = new Map<string, StoredMedia>();

  constructor(private readonly accountSid: string) {}

  add(input: MediaContent & { messageSid?: string }): StoredMedia {
    const bytes = input.base64 === undefined ? undefined : Uint8Array.from(atob(input.base64), (ch) => ch.charCodeAt(0));
    const item: StoredMedia = {
      sid: newSid("ME"),
      messageSid: input.messageSid ?? newSid("MM"),
      contentType: input.contentType,
      size: bytes?.byteLength ?? input.size ?? 0,
      ...(bytes ? { bytes } : {}),
    };
    this.items.set(item.sid, item);
    return item;
  }

  get(sid: string): StoredMedia | undefined {
    return this.items.get(sid);
  }

  /** The item a MediaUrl of this emulator names, whatever origin it was handed out on. */
  byUrl(url: string): StoredMedia | undefined {
    const sid = /\/Media\/(ME[0-9a-f]{32})$/.exec(url.split(/[?#]/)[0]!)?.[1];
    return sid ? this.items.get(sid) : undefined;
  }

  url(base: string, item: StoredMedia): string {
    return `${base.replace(/\/+$/, "")}/2010-04-01/Accounts/${this.accountSid}/Messages/${item.messageSid}/Media/${item.sid}`;
  }

  /** What the CDN serves: the stored bytes, else a repeating pattern of the item's length. */
  content(item: StoredMedia): Response {
    let bytes = item.bytes;
    if (!bytes) {
      bytes = new Uint8Array(item.size);
      for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
    }
    return new Response(bytes, { headers: { "content-type": item.contentType, "content-length": String(bytes.byteLength), "cache-control": "private, max-age=3600" } });
  }

  clear(): void {
    this.items.clear();
  }
}
