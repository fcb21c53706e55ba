import { Hono } from "hono";
import { REQUIRED, readConfig, type Area } from "../config";
import type { AppEnv } from "./app";

export const healthRoutes = new Hono<AppEnv>().get("/healthz", async (c) => {
  const { config, problems } = readConfig(c.env);
  const missing = (Object.keys(REQUIRED) as Area[]).flatMap((area) => REQUIRED[area].filter((k) => config[k] === undefined));
  let d1 = "ok";
  try {
    await c.env.DB.prepare("SELECT 1").first();
  } catch {
    d1 = "unreachable";
  }
  const checks = {
    config: missing.length === 0 && problems.length === 0 ? "ok" : "incomplete",
    d1,
  };
  const ok = checks.config === "ok" && d1 === "ok";
  return c.json(
    { ok, checks, ...(missing.length > 0 ? { missing } : {}), ...(problems.length > 0 ? { invalid: problems } : {}) },
    ok ? 200 : 503,
  );
});
