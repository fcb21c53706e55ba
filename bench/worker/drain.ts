import type * as product from "../../src/index";

/**
 * Bench-only call for the drain measurement (bench/drain.mjs, issue 12 goal 4): fills a sender's
 * queue through its own `enqueue`, as accepted replies reach it, without the webhook in front
 * (100,000 webhooks would measure the webhook). Each message is its own conversation. The rows are
 * then marked as mirrored: there is no D1 row behind them, and only the sending is measured.
 */
export interface SeedRequest {
  sender: string;
  count: number;
  /** The first index (ids run from `${tag}-${from}`). */
  from?: number;
  /** Not before this instant (ms): a deferred backlog sits a day on. */
  startAt: number;
  /** Unique per call: ids and conversations are `${tag}-${i}`. */
  tag: string;
}

type SenderClass = new (...args: any[]) => product.SenderDO;

export function drainable<T extends SenderClass>(Base: T) {
  return class extends Base {
    async benchSeed(req: SeedRequest): Promise<number> {
      const createdTime = new Date(req.startAt).toISOString();
      const from = req.from ?? 0;
      for (let i = from; i < from + req.count; i++) {
        const id = `${req.tag}-${i}`;
        const to = `+1555${String(i % 10_000_000).padStart(7, "0")}`;
        await this.enqueue(req.sender, { cxoneMessageId: id, conversationId: id, to, body: "drain", from: req.sender, mediaUrls: [], createdTime, segments: 1, encoding: "GSM-7", notBefore: req.startAt });
      }
      this.sql.exec("UPDATE queue SET synced_version = version WHERE synced_version < version AND state = 'queued'");
      return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue WHERE state = 'queued'").one().n;
    }
  };
}

/** POST /__bench/drain/seed {sender, count, startAt, tag}: the call above. */
export function drainRoute(request: Request, env: Env): Promise<Response> | undefined {
  if (new URL(request.url).pathname !== "/__bench/drain/seed" || request.method !== "POST") return undefined;
  return (async () => {
    const body = (await request.json()) as SeedRequest;
    const stub = env.SENDER.getByName(body.sender) as unknown as DurableObjectStub<InstanceType<ReturnType<typeof drainable<SenderClass>>>>;
    return Response.json({ queued: await stub.benchSeed(body) });
  })();
}
