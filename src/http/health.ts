import { Hono } from "hono";
import { areasInUse, readConfig, REQUIRED } from "../config";
import { asAppError } from "../errors";
import type { AppEnv } from "./app";

/**
 * 200 when the configuration of the deployment's dialect is complete and D1 answers; 503 naming
 * what is missing or malformed (contract §3). In DFO mode it also shows the origin in use: the
 * configured CXONE_API_BASE, or the one discovered from the token's tenant (contract §8).
 */
export const healthRoutes = new Hono<AppEnv>().get("/healthz", async (c) => {
  const { config, problems } = readConfig(c.env);
  const missing = areasInUse(config).flatMap((area) => REQUIRED[area].filter((k) => config[k] === undefined));
  let d1 = "ok";
  try {
    await c.env.DB.prepare("SELECT 1").first();
  } catch {
    d1 = "unreachable";
  }
  const configOk = missing.length === 0 && problems.length === 0;
  const dfo = config.CXONE_API_MODE === "dfo" && configOk ? { dfoOrigin: await dfoOrigin(c.env, config.CXONE_API_BASE) } : {};
  const ok = configOk && d1 === "ok";
  return c.json(
    { ok, mode: config.CXONE_API_MODE, checks: { config: configOk ? "ok" : "incomplete", d1 }, ...dfo, ...(missing.length > 0 ? { missing } : {}), ...(problems.length > 0 ? { invalid: problems } : {}) },
    ok ? 200 : 503,
  );
});

/** The configured origin, or the discovered one (a token is fetched to learn it if none is held yet). */
async function dfoOrigin(env: Env, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  try {
    return (await env.CXONE_TOKEN.getByName("cxone-token").discoveredOrigin()) ?? "not discovered";
  } catch (err) {
    return `not discovered yet (${asAppError(err).publicMessage})`;
  }
}
