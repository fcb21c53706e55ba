import { Hono, type Context } from "hono";
import { z } from "zod";
import { FaultRule } from "../faults";
import type { DfoEmulator } from "./app";
import { AgentReplyInput, SenderActionInput } from "./schemas";
import type { StoredFile } from "./state";

const FaultRules = z.object({ rules: z.array(FaultRule) });

async function parse<T>(c: Context, schema: z.ZodType<T>): Promise<{ ok: true; data: T } | { ok: false; res: Response }> {
  const parsed = schema.safeParse(await c.req.json().catch(() => undefined));
  if (parsed.success) return { ok: true, data: parsed.data };
  const message = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
  return { ok: false, res: c.json({ error: "invalid_request", message }, 400) };
}

/** An uploaded attachment's bytes with the MIME type it was uploaded as. */
export function fileResponse(file: StoredFile | undefined): Response {
  if (!file) return Response.json({ errors: [{ message: "file not found" }] }, { status: 404 });
  return new Response(file.bytes, { headers: { "content-type": file.mimeType, "content-length": String(file.bytes.byteLength) } });
}

/**
 * The emulator's own routes (under /_emu, no auth, never faulted) for `npm run dev`, the demo,
 * the soak and tests: what CXone holds, and an agent's actions on demand.
 */
export function controlRoutes(emu: DfoEmulator): Hono {
  const control = new Hono();
  // What fails here is calling the bridge (down, unreachable): say so instead of a bare 500.
  control.onError((err, c) => c.json({ error: "delivery_failed", message: err.message }, 502));
  control.get("/threads", (c) => c.json(emu.state.threadsView()));
  control.get("/statuses", (c) => c.json(Object.fromEntries(emu.state.statuses)));
  control.get("/contacts", (c) => c.json([...emu.state.contacts.values()]));
  control.get("/stats", (c) => c.json(emu.stats()));
  control.get("/files/:id", (c) => fileResponse(emu.file(c.req.param("id"))));
  control.post("/agent-reply", async (c) => {
    const input = await parse(c, AgentReplyInput);
    return input.ok ? c.json(await emu.agentReply(input.data), 201) : input.res;
  });
  control.post("/sender-action", async (c) => {
    const input = await parse(c, SenderActionInput);
    return input.ok ? c.json({ status: await emu.senderAction(input.data) }, 201) : input.res;
  });
  control.post("/revoke-tokens", (c) => c.json({ epoch: emu.revokeTokens() }));
  control.post("/faults", async (c) => {
    const input = await parse(c, FaultRules);
    if (!input.ok) return input.res;
    emu.faults.add(...input.data.rules);
    return c.json({ rules: emu.faults.list() });
  });
  control.delete("/faults", (c) => {
    emu.faults.clear();
    return c.json({ rules: [] });
  });
  return control;
}
