import { Hono } from "hono";
import { faultRoutes, parseControl } from "../control-routes";
import type { DfoEmulator } from "./app";
import { AgentReplyInput, SenderActionInput } from "./schemas";
import type { StoredFile } from "./state";

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
    const input = await parseControl(c, AgentReplyInput);
    return input.ok ? c.json(await emu.agentReply(input.data), 201) : input.res;
  });
  control.post("/sender-action", async (c) => {
    const input = await parseControl(c, SenderActionInput);
    return input.ok ? c.json({ status: await emu.senderAction(input.data) }, 201) : input.res;
  });
  control.post("/revoke-tokens", (c) => c.json({ epoch: emu.revokeTokens() }));
  control.route("/", faultRoutes(emu.faults));
  return control;
}
