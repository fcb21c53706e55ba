export interface SoakRow {
  name: string;
  expected: string;
  seen: string;
  ok: boolean;
  problems: string[];
}
export interface SoakResult {
  ok: boolean;
  rows: SoakRow[];
  mode: "open-messaging" | "dfo";
  seed: number;
  restarts: number;
  seconds: number;
  [key: string]: unknown;
}
export function runSoak(opts?: {
  /** The CXone dialect the bridge and the emulator speak (default open-messaging). */
  mode?: "open-messaging" | "dfo";
  messages?: number;
  conversations?: number;
  restarts?: number;
  /** One seed for the plan and every injected fault (default 1). */
  seed?: number;
  basePort?: number;
  /** How long the workload may take to drain after it was handed over (default 600). */
  timeoutS?: number;
  /** How long nothing may change at the emulators before the verdict (default 45). */
  quietS?: number;
  faults?: boolean;
  keepState?: boolean;
  /** The bridge's LOG_LEVEL (default info). */
  logLevel?: string;
  /** Aborting stops the run at its next step (the stack is stopped on the way out). */
  signal?: AbortSignal;
  log?: (line: string) => void;
}): Promise<SoakResult>;
export function report(result: SoakResult): string;
