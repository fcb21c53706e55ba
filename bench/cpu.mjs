/**
 * CPU time used by a process group (a `wrangler dev`: npx → wrangler's Node process → workerd),
 * from /proc, split into workerd (the Worker, its Durable Objects, local D1) and the rest
 * (wrangler's Node process: bundling, its dev proxy and log forwarding). CPU time per request is
 * far less sensitive than latency to other work competing for the cores.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const TICK_MS = 1000 / Number(safe(() => execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim(), "100"));

function safe(f, fallback) {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** { workerd, other } CPU milliseconds so far of every live process in group `pgid`. */
export function groupCpu(pgid) {
  const out = { workerd: 0, other: 0 };
  if (!pgid || process.platform !== "linux") return out;
  const lines = safe(() => execFileSync("ps", ["-eo", "pid=,pgid="], { encoding: "utf8" }), "").trim().split("\n");
  for (const line of lines) {
    const [pid, group] = line.trim().split(/\s+/).map(Number);
    if (group !== pgid) continue;
    const stat = safe(() => readFileSync(`/proc/${pid}/stat`, "utf8"), "");
    if (!stat) continue;
    // Fields after the ")" that closes the command name: state is 3rd, utime 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    if (comm.startsWith("workerd")) out.workerd += ms;
    else out.other += ms;
  }
  return out;
}

export const cpuDiff = (after, before) => ({ workerd: after.workerd - before.workerd, other: after.other - before.other });
