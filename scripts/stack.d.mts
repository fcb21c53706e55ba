export interface StackOptions {
  port?: number;
  twilioPort?: number;
  cxonePort?: number;
  /** The CXone dialect of the bridge and the CXone emulator (default: vars.CXONE_API_MODE, else the shell's CXONE_API_MODE, else open-messaging). */
  mode?: "open-messaging" | "dfo";
  /** Another entry to run with wrangler.toml's bindings (the bench's bench/worker/index.ts). */
  main?: string;
  persistTo?: string;
  vars?: Record<string, string>;
  emulatorEnv?: Record<string, string>;
  tickSeconds?: number;
  quiet?: boolean;
  /** Where quiet runs write bridge.log and emulators.log (default: <persistTo>/logs). */
  logDir?: string;
  emulators?: boolean;
  /** false: wrangler's dev server without the DevTools inspector (scripts/dev-worker.mjs), for heavy load. */
  inspector?: boolean;
  /** SQL run on the local D1 after the migrations, before the Worker starts (e.g. a trigger that injects failures). */
  d1Setup?: string[];
}
export interface Stack {
  port: number;
  mode: "open-messaging" | "dfo";
  bridgeUrl: string;
  adminToken?: string;
  twilioUrl: string;
  cxoneUrl: string;
  tick(): Promise<number>;
  restartBridge(): Promise<void>;
  stop(): Promise<void>;
}
export function startStack(opts?: StackOptions): Promise<Stack>;
export function tick(port?: number): Promise<number>;
export function killGroup(child: import("node:child_process").ChildProcess): Promise<void>;
export function waitFor(url: string, timeoutMs?: number): Promise<void>;
export function ensureDevVars(): void;
export function migrate(persistTo?: string): void;
/** One SQL statement on the local D1; with `json`, wrangler's JSON answer (one entry per statement, each with `results`). */
export function d1Execute(persistTo: string | undefined, sql: string, opts?: { json?: boolean }): unknown;
/** Stops every stack this process started and has not stopped yet (a test that timed out, say). */
export function stopAllStacks(): Promise<void>;
