/**
 * Starts the local stack: the Twilio and CXone emulators, local D1 migrations and `wrangler dev`
 * serving the bridge, plus a ticker standing in for the Cron Trigger (wrangler dev does not
 * fire crons by itself). Used by `npm run dev` and by the scripts and tests that need real HTTP.
 */
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };

export function ensureDevVars() {
  if (!existsSync(".dev.vars")) {
    copyFileSync(".dev.vars.example", ".dev.vars");
    console.log("created .dev.vars from .dev.vars.example (local emulator settings)");
    return;
  }
  // A .dev.vars from before a setting existed (e.g. the DFO ones) would leave that mode's
  // /healthz at 503: add what it lacks from the example, and say which.
  const names = (text) => new Set([...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  const example = readFileSync(".dev.vars.example", "utf8");
  addMissingKeys(example);
  const have = names(readFileSync(".dev.vars", "utf8"));
  const lines = example.split("\n").filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line) && !have.has(line.split("=")[0]));
  if (lines.length === 0) return;
  appendFileSync(".dev.vars", `\n# added from .dev.vars.example\n${lines.join("\n")}\n`);
  console.log(`added to .dev.vars from .dev.vars.example: ${lines.map((l) => l.split("=")[0]).join(", ")}`);
}

/**
 * A JSON-object setting that gained entries in the example (CXONE_DFO_CHANNELS gained the WhatsApp
 * sender's channel) gets the entries it lacks, in place; the entries it has are left as they are.
 * Without it, an older .dev.vars sends WhatsApp through the default ("*") DFO channel.
 */
function addMissingKeys(example) {
  const objectOf = (value) => {
    try {
      const parsed = JSON.parse(value);
      return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  };
  const wanted = new Map(example.split("\n").flatMap((line) => {
    const m = /^([A-Z][A-Z0-9_]*)=(\{.*\})\s*$/.exec(line);
    const value = m && objectOf(m[2]);
    return value ? [[m[1], value]] : [];
  }));
  const added = [];
  const text = readFileSync(".dev.vars", "utf8").replace(/^([A-Z][A-Z0-9_]*)=(\{.*\})[ \t]*$/gm, (line, name, json) => {
    const have = objectOf(json);
    const missing = have && wanted.has(name) ? Object.entries(wanted.get(name)).filter(([key]) => !Object.hasOwn(have, key)) : [];
    if (missing.length === 0) return line;
    added.push(`${name} (${missing.map(([key]) => key).join(", ")})`);
    // "*", the fallback, stays last, as the example writes it.
    const { "*": fallback, ...rest } = { ...have, ...Object.fromEntries(missing) };
    return `${name}=${JSON.stringify(fallback === undefined ? rest : { ...rest, "*": fallback })}`;
  });
  if (added.length === 0) return;
  writeFileSync(".dev.vars", text);
  console.log(`added to .dev.vars from .dev.vars.example: ${added.join("; ")}`);
}

export function migrate(persistTo) {
  const args = ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])];
  const result = spawnSync("npx", args, { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`migrations failed:\n${result.stdout}\n${result.stderr}`);
}

/** Runs one SQL statement on the local D1 (with `json`, returns wrangler's JSON answer). */
export function d1Execute(persistTo, sql, { json = false } = {}) {
  const args = ["wrangler", "d1", "execute", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : []), "--command", sql, ...(json ? ["--json"] : [])];
  const result = spawnSync("npx", args, { env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`d1 execute failed (${sql.slice(0, 80)}):\n${result.stdout}\n${result.stderr}`);
  return json ? JSON.parse(result.stdout) : undefined;
}

/**
 * Every stack started and not yet stopped, so that a caller that gives up (a timed-out test) can
 * still take them down, and nothing outlives this process: the children run in process groups
 * of their own (detached), which would otherwise survive it.
 */
const live = new Set();

export async function stopAllStacks() {
  await Promise.all([...live].map((s) => s.stop()));
}

process.on("exit", () => {
  for (const s of live) for (const child of s.children) if (child.exitCode === null && child.signalCode === null) killGroupNow(child, "SIGKILL");
});

export async function waitFor(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.text();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not come up within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * @param {{ port?: number, twilioPort?: number, cxonePort?: number, mode?: "open-messaging" | "dfo", main?: string, persistTo?: string, vars?: Record<string,string>,
 *           emulatorEnv?: Record<string,string>, tickSeconds?: number, quiet?: boolean, emulators?: boolean,
 *           inspector?: boolean, d1Setup?: string[] }} opts
 */
export async function startStack(opts = {}) {
  const port = opts.port ?? 8787;
  const twilioPort = opts.twilioPort ?? 8788;
  const cxonePort = opts.cxonePort ?? 8789;
  const quiet = opts.quiet ?? false;
  // Quiet runs write to files: an unread pipe would stall wrangler once its buffer fills.
  const logDir = opts.logDir ?? (opts.persistTo ? join(opts.persistTo, "logs") : ".tmp/logs");
  if (quiet) mkdirSync(logDir, { recursive: true });
  const io = (name) => (quiet ? ["ignore", openSync(join(logDir, `${name}.log`), "a"), openSync(join(logDir, `${name}.log`), "a")] : ["ignore", "inherit", "inherit"]);
  const children = [];
  let ticker;
  const handle = {
    children,
    stopped: false,
    async stop() {
      handle.stopped = true;
      if (ticker) clearInterval(ticker);
      await Promise.all(children.map((c) => killGroup(c)));
      live.delete(handle);
    },
  };
  // A part that does not come up takes the others down with it, and the error carries the end of
  // its log (a quiet run's logs may be deleted by the caller right after).
  const ready = async (name, probe) => {
    try {
      await probe;
      // Stopped from outside (stopAllStacks) while it was coming up: start nothing more.
      if (handle.stopped) throw new Error("the stack was stopped while it started");
    } catch (err) {
      await handle.stop();
      const log = join(logDir, `${name}.log`);
      const tail = quiet && existsSync(log) ? `\n--- end of ${name}.log ---\n${readFileSync(log, "utf8").split("\n").slice(-30).join("\n")}` : "";
      throw new Error(`${err.message}${tail}`);
    }
  };
  // The CXone dialect reaches the Worker and the emulators alike: `mode`, else the caller's vars,
  // else the shell's (`CXONE_API_MODE=dfo npm run dev`). A caller that names it is not overridden
  // by a CXONE_API_MODE left in the shell.
  const mode = opts.mode ?? opts.vars?.CXONE_API_MODE ?? process.env.CXONE_API_MODE;
  const vars = {
    PUBLIC_BASE_URL: `http://localhost:${port}`,
    TWILIO_API_BASE: `http://127.0.0.1:${twilioPort}`,
    CXONE_API_BASE: `http://127.0.0.1:${cxonePort}`,
    CXONE_TOKEN_URL: `http://127.0.0.1:${cxonePort}/auth/token`,
    ...opts.vars,
    ...(mode ? { CXONE_API_MODE: mode } : {}),
  };
  ensureDevVars();
  // A stack left over from an earlier run would answer in place of this one, with its own state.
  for (const p of [port, ...(opts.emulators === false ? [] : [twilioPort, cxonePort])]) await assertPortFree(p);
  migrate(opts.persistTo);
  // Before the Worker starts, e.g. a trigger that makes chosen D1 writes fail (the soak's D1 fault).
  for (const sql of opts.d1Setup ?? []) d1Execute(opts.persistTo, sql);
  live.add(handle);

  if (opts.emulators !== false) {
    const emulators = spawn("npx", ["tsx", "emulators/server.ts"], {
      env: { ...env, BRIDGE_URL: `http://localhost:${port}`, EMU_TWILIO_PORT: String(twilioPort), EMU_CXONE_PORT: String(cxonePort), ...vars, ...opts.emulatorEnv },
      stdio: io("emulators"),
      detached: true,
    });
    children.push(emulators);
    await ready("emulators", Promise.all([waitFor(`http://127.0.0.1:${twilioPort}/_emu/messages`), waitFor(`http://127.0.0.1:${cxonePort}/_emu/feed`)]));
  }

  const bridge = startBridge({ port, vars, main: opts.main, persistTo: opts.persistTo, inspector: opts.inspector, io: io("bridge") });
  children.push(bridge.child);
  await ready("bridge", waitFor(`http://localhost:${port}/healthz`, 90_000));

  const tickSeconds = opts.tickSeconds ?? 10;
  ticker = tickSeconds > 0 ? setInterval(() => tick(port).catch(() => undefined), tickSeconds * 1000) : undefined;

  return {
    port,
    mode: vars.CXONE_API_MODE === "dfo" ? "dfo" : "open-messaging",
    bridgeUrl: `http://localhost:${port}`,
    twilioUrl: `http://127.0.0.1:${twilioPort}`,
    cxoneUrl: `http://127.0.0.1:${cxonePort}`,
    bridge,
    tick: () => tick(port),
    /** Kills wrangler dev and starts it again on the same local state (restart tests, the soak). */
    async restartBridge() {
      await bridge.stop();
      if (handle.stopped) throw new Error("the stack was stopped");
      const next = startBridge({ port, vars, main: opts.main, persistTo: opts.persistTo, inspector: opts.inspector, io: io("bridge") });
      bridge.child = next.child;
      bridge.stop = next.stop;
      children.push(next.child);
      await waitFor(`http://localhost:${port}/healthz`, 90_000);
    },
    stop: () => handle.stop(),
  };
}

/**
 * `wrangler dev`, or with `inspector: false` the same dev server without DevTools
 * (scripts/dev-worker.mjs). `main` runs another entry with wrangler.toml's bindings (the bench's).
 */
function startBridge({ port, vars, main, persistTo, inspector = true, io }) {
  const args = ["--port", String(port), "--ip", "127.0.0.1"];
  if (main) args.push(...(inspector ? [main] : ["--main", main]));
  if (persistTo) args.push("--persist-to", persistTo);
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const command = inspector
    ? ["npx", ["wrangler", "dev", ...args, "--test-scheduled", "--show-interactive-dev-session=false", "--inspector-port", "0"]]
    : ["node", ["scripts/dev-worker.mjs", ...args]];
  const child = spawn(command[0], command[1], { env, stdio: io, detached: true });
  return { child, stop: () => killGroup(child) };
}

async function assertPortFree(port) {
  const answered = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) }).then(
    () => true,
    () => false,
  );
  if (answered) throw new Error(`port ${port} is already in use (a stack left running? try: pkill -f "wrangler dev"; pkill -f emulators/server.ts)`);
}

export async function tick(port = 8787) {
  const res = await fetch(`http://localhost:${port}/__scheduled?cron=*+*+*+*+*`);
  await res.text();
  return res.status;
}

/** SIGTERM to the child's process group (npx → wrangler → workerd), SIGKILL after 5 s if anything is left. */
export function killGroup(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    // wrangler spawns workerd; kill the whole group so nothing keeps the port.
    killGroupNow(child, "SIGTERM");
    setTimeout(() => killGroupNow(child, "SIGKILL"), 5_000).unref();
  });
}

function killGroupNow(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
