import { Hono, type Context } from "hono";
import { z } from "zod";
import { faultRoutes, parseControl } from "../control-routes";
import type { TwilioEmulator } from "./app";
import { MediaContent, MediaInput } from "./media";
import { twilioOpenApi } from "./openapi-subset";
import { isWhatsApp, isWhatsAppInbound } from "./whatsapp";

const Inbound = z
  .object({
    from: z.string().min(1),
    to: z.string().min(1),
    body: z.string(),
    // An item is a URL with its type, or content stored here and handed out under a MediaUrl of ours.
    media: z.array(z.union([z.object({ url: z.string().min(1), contentType: z.string().min(1) }), MediaContent])).optional(),
    mediaUrls: z.array(z.string().min(1)).optional(),
    messagingServiceSid: z.string().optional(),
    sid: z.string().optional(),
    /** WhatsApp only: the customer's display name. */
    profileName: z.string().optional(),
    extraFields: z.array(z.tuple([z.string().min(1), z.string()])).optional(),
  })
  // No customer writes across channels; a test that wants such a webhook sets From/To in extraFields.
  .refine((m) => isWhatsAppInbound(m.from) === isWhatsAppInbound(m.to), { message: "from and to must both be whatsapp: addresses or neither", path: ["to"] });
const WhatsAppAddress = z.string().refine(isWhatsApp, "must be whatsapp:+E164");
const WindowBody = z.object({ customer: WhatsAppAddress, business: WhatsAppAddress, lastInboundAt: z.number().int().min(0).nullable() });
const StatusChange = z.object({ status: z.enum(twilioOpenApi.messageStatus), errorCode: z.number().int().optional() });
const OutcomeBody = z.object({ status: z.enum(["delivered", "undelivered", "failed", "sent"]), errorCode: z.number().int().optional() });
const originOf = (c: Context) => new URL(c.req.url).origin;

/**
 * The emulator's own routes (under /_emu, no auth, never faulted) for `npm run dev`, the demo and
 * the Node-side tests: what was sent, and the carrier's side of the story on demand.
 */
export function controlRoutes(emu: TwilioEmulator): Hono {
  const control = new Hono();
  // What fails here is delivering to the bridge (down, unreachable): say so instead of a bare 500.
  control.onError((err, c) => c.json({ error: "delivery_failed", message: err.message }, 502));
  // ?from= one sender's only; &only=receivedAt just their arrival times (the benches poll these
  // while they measure: the whole list, thousands long, cost the emulator what the bridge needed).
  control.get("/messages", (c) => {
    const from = c.req.query("from");
    const messages = from === undefined ? emu.messages() : emu.messages().filter((m) => m.from === from);
    return c.json(c.req.query("only") === "receivedAt" ? messages.map((m) => m.receivedAt) : messages);
  });
  control.get("/stats", (c) => c.json(emu.stats()));
  // Media handed out here is on the origin this request came to, which is where the bridge's
  // TWILIO_API_BASE points when the caller uses the same address (unless apiBaseUrl says otherwise).
  control.post("/inbound", async (c) => {
    const input = await parseControl(c, Inbound);
    return input.ok ? c.json(await emu.sendInbound(input.data, originOf(c))) : input.res;
  });
  control.post("/media", async (c) => {
    const input = await parseControl(c, MediaInput);
    return input.ok ? c.json(emu.addMedia(input.data, originOf(c)), 201) : input.res;
  });
  // Twilio's CDN: whoever has the link gets the bytes, as with the signed links Twilio redirects to.
  control.get("/cdn/:sid", (c) => emu.mediaContent(c.req.param("sid")) ?? c.json({ error: "not_found", message: `no media ${c.req.param("sid")}` }, 404));
  control.post("/status/:sid", async (c) => {
    const input = await parseControl(c, StatusChange);
    if (!input.ok) return input.res;
    const sid = c.req.param("sid");
    if (!emu.messages().some((m) => m.sid === sid)) return c.json({ error: "not_found", message: `no message ${sid}` }, 404);
    return c.json({ http: await emu.sendStatus(sid, input.data.status, input.data.errorCode) });
  });
  control.route("/", faultRoutes(emu.faults));
  control.post("/reset", (c) => {
    emu.reset();
    return c.json({ ok: true });
  });
  // Where the soak and the tests put a customer's last WhatsApp message, e.g. 25 h ago, without waiting.
  control.post("/whatsapp/window", async (c) => {
    const input = await parseControl(c, WindowBody);
    if (!input.ok) return input.res;
    const { customer, business, lastInboundAt } = input.data;
    return c.json({ customer, business, lastInboundAt, open: emu.setWhatsAppWindow(customer, business, lastInboundAt) });
  });
  control.post("/unsubscribe/:phone", (c) => {
    emu.unsubscribe(c.req.param("phone"));
    return c.json({ ok: true });
  });
  control.post("/outcome/:phone", async (c) => {
    const input = await parseControl(c, OutcomeBody);
    if (!input.ok) return input.res;
    emu.setOutcome(c.req.param("phone"), input.data);
    return c.json({ ok: true });
  });
  return control;
}
