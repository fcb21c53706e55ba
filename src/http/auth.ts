import type { Context } from "hono";
import { safeEqual } from "../crypto";

/** True when the request carries `Authorization: Bearer <secret>` (compared in constant time). */
export function hasBearer(c: Context, secret: string): boolean {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  return safeEqual(match?.[1]?.trim() ?? "", secret);
}
