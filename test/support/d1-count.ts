import { env } from "cloudflare:workers";
import { instrumentD1, metricsRoute } from "../../bench/worker/instrumentation";

/** D1 statements through the bench's counting binding (bench/worker/instrumentation.ts), reset first. */
export function countedD1(db: D1Database = env.DB): { db: D1Database; statements: () => Promise<number> } {
  const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
  const metrics = (method: string) => metricsRoute(new Request("https://bridge.test/__metrics", { method, headers: admin }), env)!;
  metrics("DELETE");
  return { db: instrumentD1(db), statements: async () => ((await metrics("GET").json()) as { d1: { queries: number } }).d1.queries };
}
