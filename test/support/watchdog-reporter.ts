import { execFileSync } from "node:child_process";
import type { Reporter, TestCase, TestModule } from "vitest/node";

/**
 * A run that stops making progress fails, naming what was still running, instead of holding CI
 * until its own limit (90 minutes once, with nothing printed after the last finished file to say
 * which test hung). Progress is any test finishing; no single test is allowed more than the soak's
 * 10 minutes, so a silence longer than that is a hang.
 */
const IDLE_MS = Number(process.env.TEST_WATCHDOG_IDLE_MS ?? 12 * 60_000);

export default class WatchdogReporter implements Reporter {
  private readonly running = new Map<string, string>();
  private readonly modules = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  onTestRunStart(): void {
    this.arm();
  }

  // Queued, not started: a file whose isolate is stuck may never get to say it started.
  onTestModuleQueued(module: TestModule): void {
    this.modules.add(`${module.project.name}: ${module.moduleId}`);
    this.arm();
  }

  onTestModuleEnd(module: TestModule): void {
    this.modules.delete(`${module.project.name}: ${module.moduleId}`);
    this.arm();
  }

  onTestCaseReady(test: TestCase): void {
    this.running.set(test.id, `${test.project.name}: ${test.module.moduleId} > ${test.fullName}`);
  }

  onTestCaseResult(test: TestCase): void {
    this.running.delete(test.id);
    this.arm();
  }

  onTestRunEnd(): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), IDLE_MS);
    this.timer.unref();
  }

  private fire(): void {
    const lines = [
      `test watchdog: no test finished in ${Math.round(IDLE_MS / 1000)} s; the run is hung.`,
      "files not finished:",
      ...[...this.modules].map((m) => `  ${m}`),
      "tests still running:",
      ...[...this.running.values()].map((t) => `  ${t}`),
    ];
    process.stderr.write(`${lines.join("\n")}\n`);
    killDescendants(process.pid);
    process.exit(1);
  }
}

/** wrangler dev, workerd and the emulators the tests started: left alive they hold CI's output open. */
function killDescendants(root: number): void {
  let table: string;
  try {
    table = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" });
  } catch {
    return;
  }
  const children = new Map<number, number[]>();
  for (const line of table.trim().split("\n")) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const all: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      all.push(c);
      walk(c);
    }
  };
  walk(root);
  for (const pid of all) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
