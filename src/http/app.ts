import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, asAppError } from "../errors";
import { log } from "../log";
import { healthRoutes } from "./health";
import { openApiRoutes } from "./openapi";
import { adminRoutes } from "./admin";
import { cxoneRoutes } from "./cxone";
import { dfoRoutes } from "./dfo";
import { proactiveRoutes } from "./proactive";
import { inboundRoutes } from "./twilio-inbound";
import { statusRoutes } from "./twilio-status";

export type AppEnv = { Bindings: Env };

/** The HTTP edge: routes only; the work is in domain/ and the Durable Objects. */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.route("/", healthRoutes);
  app.route("/", openApiRoutes);
  app.route("/", inboundRoutes);
  app.route("/", statusRoutes);
  app.route("/", cxoneRoutes);
  app.route("/", dfoRoutes);
  app.route("/", adminRoutes);
  app.route("/", proactiveRoutes);
  app.notFound((c) => c.json({ error: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  app.onError((err, c) => {
    const error = toAppError(err);
    const route = new URL(c.req.url).pathname;
    if (error.status >= 500) log("error", "http.error", { route, http: error.status, reason: error.code, detail: error.detail });
    else if (error.detail) log("warn", "http.refused", { route, http: error.status, reason: error.code, detail: error.detail });
    const headers: Record<string, string> = {};
    if (error.status === 503) headers["retry-after"] = "5";
    return c.json({ error: error.code, message: error.publicMessage }, error.status as 400, headers);
  });
  return app;
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    // Hono's own refusals (malformed JSON, over-long bodies) are client errors, said plainly.
    const status = err.status >= 500 ? 503 : err.status;
    return new AppError(status, err.status === 413 ? "payload_too_large" : "bad_request", err.message || "the request could not be read");
  }
  return asAppError(err);
}
