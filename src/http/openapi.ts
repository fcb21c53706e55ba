import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "./app";
import { BatchAnswer, BatchStatus, DeadLetterId, DeadLetterLimit, E164, ErrorBody, OptOutBody, ProactiveAnswer, ProactiveBatchDoc, ProactiveSingle } from "./api-schemas";

/**
 * GET /openapi.json: the bridge's own API (/v1 and /admin, docs/contract.md §3) described from
 * the zod schemas its routes validate with, so the description cannot drift from the checks.
 * Twilio's and CXone's callbacks are not in it: their shapes are theirs (docs/contract.md §3, §8).
 */
const schema = (s: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
};
const json = (s: z.ZodType) => ({ "application/json": { schema: schema(s) } });
const answer = (description: string, s?: z.ZodType) => ({ description, ...(s ? { content: json(s) } : {}) });
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((n) => [String(n), answer(ERRORS[n] ?? "refused", ErrorBody)]));
const ERRORS: Record<number, string> = { 400: "invalid input, the field named", 401: "missing or wrong bearer token", 404: "not found", 409: "already done", 413: "body too large", 415: "not JSON" };
const param = (name: string, s: z.ZodType, where: "path" | "query" = "path") => ({ name, in: where, required: where === "path", schema: schema(s) });
const anyObject = z.object({}).catchall(z.unknown());

function build() {
  const v1 = [{ apiToken: [] }];
  const admin = [{ adminToken: [] }];
  return {
    openapi: "3.1.0",
    info: { title: "sms-bridge", version: "1", description: "The Twilio ⇄ NICE CXone bridge's API for business systems (/v1) and operators (/admin). The contract: docs/contract.md." },
    components: { securitySchemes: { apiToken: { type: "http", scheme: "bearer", description: "API_TOKEN" }, adminToken: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN" } } },
    paths: {
      "/v1/proactive": {
        post: {
          summary: "Start a conversation with one recipient, or a batch of up to 100,000",
          security: v1,
          requestBody: { required: true, content: { "application/json": { schema: { oneOf: [schema(ProactiveSingle), schema(ProactiveBatchDoc)] } } } },
          responses: { "200": answer("one recipient: launched, deferred by quiet hours or refused", ProactiveAnswer), "202": answer("a batch: accepted for sending, refusals named", BatchAnswer), ...errors(400, 401, 413, 415) },
        },
      },
      "/v1/proactive/batches/{batchId}": {
        get: { summary: "A batch's counts by state", security: v1, parameters: [param("batchId", z.string())], responses: { "200": answer("counts", BatchStatus), ...errors(401, 404) } },
      },
      "/admin/messages/{id}": {
        get: { summary: "A message by CXone id or MessageSid: mapping, state, status history, receipts, queue entry", security: admin, parameters: [param("id", z.string())], responses: { "200": answer("the message", anyObject), ...errors(401, 404) } },
      },
      "/admin/conversations/{conversationId}": {
        get: { summary: "A conversation and its messages in order", security: admin, parameters: [param("conversationId", z.string())], responses: { "200": answer("the conversation", anyObject), ...errors(401, 404) } },
      },
      "/admin/dead-letters": {
        get: { summary: "Open dead letters, oldest first", security: admin, parameters: [param("limit", DeadLetterLimit, "query")], responses: { "200": answer("dead letters", anyObject), ...errors(400, 401) } },
      },
      "/admin/dead-letters/{id}/retry": {
        post: { summary: "Replay a dead letter", security: admin, parameters: [param("id", DeadLetterId)], responses: { "200": answer("what the replay did", anyObject), ...errors(400, 401, 404, 409) } },
      },
      "/admin/opt-outs/{phone}": {
        get: { summary: "Whether a customer is suppressed, and for which senders", security: admin, parameters: [param("phone", E164)], responses: { "200": answer("suppression entries", anyObject), ...errors(400, 401) } },
        put: { summary: "Suppress a customer", security: admin, parameters: [param("phone", E164)], requestBody: { required: false, content: json(OptOutBody) }, responses: { "200": answer("suppressed", anyObject), ...errors(400, 401, 413) } },
        delete: { summary: "Lift a suppression (for one sender with ?business=)", security: admin, parameters: [param("phone", E164), param("business", z.string(), "query")], responses: { "200": answer("how many entries were removed", anyObject), ...errors(400, 401) } },
      },
      "/admin/senders/{sender}": {
        get: { summary: "A sender's rate bucket, queue and recent sends", security: admin, parameters: [param("sender", z.string())], responses: { "200": answer("the sender", anyObject), ...errors(400, 401) } },
      },
      "/admin/reconcile": {
        post: { summary: "Run one reconciler pass now", security: admin, responses: { "200": answer("what the pass did", anyObject), ...errors(401) } },
      },
    },
  };
}

let document: ReturnType<typeof build> | undefined;
export const openApiRoutes = new Hono<AppEnv>().get("/openapi.json", (c) => c.json((document ??= build())));
