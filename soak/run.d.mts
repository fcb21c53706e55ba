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
  restarts: number;
  seconds: number;
  [key: string]: unknown;
}
export function runSoak(opts?: {
  messages?: number;
  conversations?: number;
  restarts?: number;
  seed?: number;
  basePort?: number;
  timeoutS?: number;
  faults?: boolean;
  keepState?: boolean;
  /** The bridge's LOG_LEVEL (default info). */
  logLevel?: string;
  log?: (line: string) => void;
}): Promise<SoakResult>;
export function report(result: SoakResult): string;
