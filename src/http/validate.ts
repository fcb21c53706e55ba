import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { AppError } from "../errors";

/** "field: problem; other.field: problem" — names the field, never echoes the value. */
export function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join(".")}: ${i.message}` : i.message))
    .join("; ");
}

export function parseOr400<T extends z.ZodType>(schema: T, data: unknown, code = "invalid_request"): z.infer<T> {
  const result = schema.safeParse(data);
  if (!result.success) throw new AppError(400, code, describeIssues(result.error));
  return result.data;
}

/** zValidator whose failures are the bridge's 400 JSON error, naming the field. */
export function validated<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw new AppError(400, "invalid_request", describeIssues(result.error));
  });
}
