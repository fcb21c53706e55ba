/**
 * Starts the baseline Worker (bench/baseline/) under `wrangler dev` on its own port, the same way
 * scripts/stack.mjs starts the bridge, and stops its whole process group.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { killGroup, waitFor } from "../scripts/stack.mjs";

export async function startBaseline({ port, fallbackPorts = [], vars, dir }) {
  // workerd binds its port without SO_REUSEADDR, so a TIME-WAIT left by any client connection
  // that happened to use the port as its ephemeral source (Linux hands even ports to connect())
  // makes the bind fail ("Address already in use") for a minute: then take the next port.
  const errors = [];
  for (const candidate of [port, ...fallbackPorts]) {
    const holders = safeExec("ss", ["-tanH", `sport = :${candidate}`]);
    if (holders) {
      errors.push(`${candidate}: held (${holders.replace(/\s+/g, " ").slice(0, 120)})`);
      continue;
    }
    try {
      const started = await startOnce({ port: candidate, vars, dir });
      if (candidate !== port) console.log(`  baseline on port ${candidate} (${errors.join("; ")})`);
      return started;
    } catch (err) {
      errors.push(`${candidate}: ${err.message}`);
    }
  }
  throw new Error(`the baseline did not start: ${errors.join("; ")}`);
}

async function startOnce({ port, vars, dir }) {
  mkdirSync(join(dir, "logs"), { recursive: true });
  const logFile = join(dir, "logs", "baseline.log");
  const startedAt = existsSync(logFile) ? readFileSync(logFile, "utf8").length : 0;
  const log = openSync(logFile, "a");
  // The same dev server as the bridge's (scripts/dev-worker.mjs: wrangler's, without the DevTools inspector).
  const args = ["scripts/dev-worker.mjs", "--config", "bench/baseline/wrangler.toml", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", dir];
  for (const [k, v] of Object.entries({ PUBLIC_BASE_URL: `http://localhost:${port}`, ...vars })) args.push("--var", `${k}:${v}`);
  const child = spawn("node", args, { env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" }, stdio: ["ignore", log, log], detached: true });
  const stop = () => killGroup(child);
  let watching = true;
  const failed = new Promise((_, reject) => {
    child.once("exit", (code) => reject(new Error(`wrangler dev exited with ${code}`)));
    const check = () => {
      if (!watching) return;
      if (readFileSync(logFile, "utf8").slice(startedAt).includes("Address already in use")) {
        const holders = safeExec("ss", ["-tanpH", `sport = :${port}`]);
        reject(new Error(`workerd could not bind the port${holders ? `; sockets on it: ${holders.replace(/\s+/g, " ").slice(0, 400)}` : ""}`));
      }
      else setTimeout(check, 500);
    };
    check();
  });
  failed.catch(() => undefined);
  try {
    await Promise.race([waitFor(`http://127.0.0.1:${port}/healthz`, 90_000), failed]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    watching = false;
  }
  return { url: `http://localhost:${port}`, publicUrl: `http://localhost:${port}`, pid: child.pid, stop };
}

function safeExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}
