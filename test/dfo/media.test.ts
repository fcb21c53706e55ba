import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { DFO_BINDINGS as D } from "../support/bindings";
import { threadOf, useDfoEmulators } from "../support/dfo";
import { advance, inboundFields, phone, postInbound, thread } from "../support/inbound";
import { network } from "../support/network";

/**
 * contract §8, MMS: media is fetched from Twilio's API origin only (with the account's credentials,
 * at most 3 redirects, at most 5 MB), uploaded as a DFO temporary attachment and attached; an item
 * that cannot be fetched is named in the text, never dropped, never holding the text back.
 */
const emu = useDfoEmulators();
const MEDIA_PATH = `/2010-04-01/Accounts/${D.TWILIO_ACCOUNT_SID}/Messages/MM${"a".repeat(32)}/Media`;
const CDN = "https://media.twiliocdn.test";
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);

/** Twilio's media route on its API origin, answering with `redirects` hops through its CDN. */
function twilioMedia(id: string, opts: { redirects?: number; bytes?: Uint8Array; status?: number } = {}) {
  const seen: { url: string; authorization: string | null }[] = [];
  const serve = (request: Request, hop: number) => {
    seen.push({ url: request.url, authorization: request.headers.get("authorization") });
    if (opts.status) return new HttpResponse(null, { status: opts.status });
    if (hop < (opts.redirects ?? 0)) return new HttpResponse(null, { status: 307, headers: { location: `${CDN}/${id}/${hop + 1}` } });
    return new HttpResponse(opts.bytes ?? JPEG, { headers: { "content-type": "image/jpeg" } });
  };
  network.use(
    http.get(`${D.TWILIO_API_BASE}${MEDIA_PATH}/${id}`, ({ request }) => serve(request as unknown as Request, 0)),
    http.get(`${CDN}/${id}/:hop`, ({ request, params }) => serve(request as unknown as Request, Number(params.hop))),
  );
  return { url: `${D.TWILIO_API_BASE}${MEDIA_PATH}/${id}`, seen };
}

async function mms(mediaUrl: string) {
  const customer = phone();
  const res = await postInbound(inboundFields({ From: customer, Body: "see the photo", NumMedia: "1", MediaUrl0: mediaUrl, MediaContentType0: "image/jpeg" }));
  expect(res.status).toBe(200);
  await thread(customer).deliver();
  return threadOf(emu, "chat_main", customer)?.messages ?? [];
}

describe("a customer's MMS in DFO mode", () => {
  it("fetches the item from Twilio with the account's credentials, follows its CDN without them, and attaches the upload", async () => {
    const media = twilioMedia("ME1", { redirects: 2 });
    const [message] = await mms(media.url);
    expect(message).toMatchObject({ text: "see the photo", attachments: [{ friendlyName: "media-1.jpg", url: expect.stringMatching(/^https:\/\/cxone\.test\/dfo\/files\//) }] });
    expect(media.seen.map((s) => [new URL(s.url).origin, s.authorization !== null])).toEqual([
      [D.TWILIO_API_BASE, true],
      [CDN, false],
      [CDN, false],
    ]);
    expect(media.seen[0]!.authorization).toBe(`Basic ${btoa(`${D.TWILIO_ACCOUNT_SID}:${D.TWILIO_AUTH_TOKEN}`)}`);
    const id = message!.attachments![0]!.url.split("/").pop()!;
    expect(new Uint8Array(emu.dfo.file(id)!.bytes)).toEqual(JPEG);
  });

  it("never fetches a MediaUrl on any other host (SSRF), and names it in the text", async () => {
    const hits: string[] = [];
    network.use(
      http.all("https://metadata.internal.test/*", ({ request }) => {
        hits.push(request.url);
        return new HttpResponse("secret");
      }),
    );
    const [message] = await mms("https://metadata.internal.test/latest/credentials.jpg");
    expect(hits).toEqual([]);
    expect(message).toMatchObject({ text: "see the photo\n[attachment unavailable: image/jpeg]" });
    expect(message!.attachments ?? []).toEqual([]);
  });

  it.each([
    ["more than 3 redirects", { redirects: 4 }],
    ["more than 5 MB", { bytes: new Uint8Array(5 * 1024 * 1024 + 1) }],
    ["Twilio answering 404", { status: 404 }],
  ])("names an item it cannot take (%s) and still posts the text", async (_name, opts) => {
    const media = twilioMedia(`ME-${crypto.randomUUID()}`, opts);
    const [message] = await mms(media.url);
    expect(message).toMatchObject({ text: "see the photo\n[attachment unavailable: image/jpeg]" });
  });

  it("retries the message, media and all, while DFO cannot take the upload", async () => {
    const media = twilioMedia("ME-retry");
    emu.dfo.faults.add({ method: "POST", path: "^/dfo/3.0/attachments/temporary$", kind: "status", status: 503, times: 1 });
    const customer = phone();
    await postInbound(inboundFields({ From: customer, Body: "photo", NumMedia: "1", MediaUrl0: media.url, MediaContentType0: "image/jpeg" }));
    await thread(customer).deliver();
    expect(threadOf(emu, "chat_main", customer)?.messages ?? []).toHaveLength(0);
    await advance(customer);
    expect(threadOf(emu, "chat_main", customer)!.messages[0]).toMatchObject({ text: "photo", attachments: [{ friendlyName: "media-1.jpg" }] });
  });
});
