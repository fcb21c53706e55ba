import type { Context } from "hono";
import type { z } from "zod";

/** DFO's error body everywhere: `{ errors: [{ field?, message, errorCode? }] }` (NICE's ApiErrorCollection). */
type DfoErrorItem = { field?: string; message: string; errorCode?: string };
export const dfoError = (c: Context, status: 400 | 401 | 404 | 409, ...errors: DfoErrorItem[]) => c.json({ errors }, status);

/** The JSON body checked against `schema`, or the 400 naming each offending field. */
export async function parseBody<T>(c: Context, schema: z.ZodType<T>): Promise<T | Response> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return dfoError(c, 400, { message: "the body must be JSON" });
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  return dfoError(c, 400, ...parsed.error.issues.map((i) => ({ ...(i.path.length > 0 ? { field: i.path.join(".") } : {}), message: i.message })));
}
