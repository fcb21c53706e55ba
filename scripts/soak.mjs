/**
 * `npm run soak`: the fault-injection soak (soak/run.mjs) at the size given by the environment —
 * CXONE_API_MODE (open-messaging by default, or dfo: the same soak and verdict against DFO),
 * SOAK_MESSAGES (default 2000), SOAK_CONVERSATIONS (300), SOAK_RESTARTS (2), SOAK_SEED (1),
 * SOAK_TIMEOUT_S (600 at the default size, 150 for a small run), SOAK_QUIET_S (45);
 * SOAK_KEEP_STATE=1 keeps the state and logs, SOAK_LOG_LEVEL sets the bridge's LOG_LEVEL.
 * Prints the verdict, writes bench/results-soak.md (bench/results-soak-dfo.md in DFO mode), exits 1
 * on any violation.
 */
import { writeFileSync } from "node:fs";
import { report, runSoak } from "../soak/run.mjs";

process.env.WRANGLER_SEND_METRICS ??= "false";
// Ctrl-C ends the process through "exit", where scripts/stack.mjs kills what the soak started.
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const messages = num("SOAK_MESSAGES", 2_000);
const seed = num("SOAK_SEED", 1);
const mode = process.env.CXONE_API_MODE === "dfo" ? "dfo" : "open-messaging";
if (process.env.CXONE_API_MODE && process.env.CXONE_API_MODE !== mode) throw new Error(`CXONE_API_MODE must be open-messaging or dfo, not ${process.env.CXONE_API_MODE}`);
const prefix = mode === "dfo" ? "CXONE_API_MODE=dfo " : "";
console.log(`soak seed ${seed} (rerun with ${prefix}SOAK_SEED=${seed})`);
const result = await runSoak({
  mode,
  messages,
  conversations: num("SOAK_CONVERSATIONS", 300),
  restarts: num("SOAK_RESTARTS", 2),
  seed,
  // A stalled message keeps the soak waiting until the timeout: scale it with the workload.
  timeoutS: num("SOAK_TIMEOUT_S", Math.max(150, Math.round(messages * 0.3))),
  quietS: num("SOAK_QUIET_S", undefined),
  keepState: process.env.SOAK_KEEP_STATE === "1",
  logLevel: process.env.SOAK_LOG_LEVEL,
});
const text = report(result);
console.log(`\n${text}\n`);
const [file, title] = mode === "dfo" ? ["bench/results-soak-dfo.md", "Soak (CXone DFO mode)"] : ["bench/results-soak.md", "Soak"];
writeFileSync(file, `# ${title}\n\nCommand: \`${prefix}npm run soak\` (${new Date().toISOString().slice(0, 10)})\n\n${text}\n`);
console.log(result.ok ? "soak passed" : "soak FAILED");
process.exit(result.ok ? 0 : 1);
