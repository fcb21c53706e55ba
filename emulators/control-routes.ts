import { Hono, type Context } from "hono";
import { z } from "zod";
import { FaultRule, type Faults } from "./faults";

/** A control route's JSON input, or the 400 that names what is wrong with it. */
export async function parseControl<T>(c: Context, schema: z.ZodType<T>): Promise<{ ok: true; data: T } | { ok: false; res: Response }> {
  const parsed = schema.safeParse(await c.req.json().catch(() => undefined));
  if (parsed.success) return { ok: true, data: parsed.data };
  const message = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
  return { ok: false, res: c.json({ error: "invalid_request", message }, 400) };
}

const FaultRules = z.object({ rules: z.array(FaultRule) });

/** `POST /faults` {rules} adds injected faults, `DELETE /faults` clears them: every emulator's, the same. */
export function faultRoutes(faults: Faults): Hono {
  return new Hono()
    .post("/faults", async (c) => {
      const input = await parseControl(c, FaultRules);
      if (!input.ok) return input.res;
      faults.add(...input.data.rules);
      return c.json({ rules: faults.list() });
    })
    .delete("/faults", (c) => {
      faults.clear();
      return c.json({ rules: [] });
    });
}
