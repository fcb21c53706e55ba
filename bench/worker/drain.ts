import { requireConfig } from "../../src/config";
import { senderObject } from "../../src/domain/outbound/shards";
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
  /** Sent through this Messaging Service (`sender` is then one of its sender objects). */
  service?: string;
  /** Only these indexes (a service's conversations, each on its own object). */
  only?: number[];
}

type SenderClass = new (...args: any[]) => product.SenderDO;

export function drainable<T extends SenderClass>(Base: T) {
  return class extends Base {
    async benchSeed(req: SeedRequest): Promise<number> {
      const createdTime = new Date(req.startAt).toISOString();
      const from = req.from ?? 0;
      const sender = req.service ? { messagingServiceSid: req.service } : { from: req.sender };
      for (const i of req.only ?? Array.from({ length: req.count }, (_, k) => from + k)) {
        const id = `${req.tag}-${i}`;
        const to = `+1555${String(i % 10_000_000).padStart(7, "0")}`;
        await this.enqueue(req.sender, { cxoneMessageId: id, conversationId: id, to, body: "drain", ...sender, mediaUrls: [], createdTime, segments: 1, encoding: "GSM-7", notBefore: req.startAt });
      }
      this.sql.exec("UPDATE queue SET synced_version = version WHERE synced_version < version AND state = 'queued'");
      return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue WHERE state = 'queued'").one().n;
    }
  };
}

type Seedable = DurableObjectStub<InstanceType<ReturnType<typeof drainable<SenderClass>>>>;

/**
 * POST /__bench/drain/seed {sender, count, startAt, tag}: the call above. With `service` instead
 * of `sender`, each conversation goes to its object of the Messaging Service, as accepted replies
 * do (the product's own `senderObject`); the answer is what each object holds.
 */
export function drainRoute(request: Request, env: Env): Promise<Response> | undefined {
  if (new URL(request.url).pathname !== "/__bench/drain/seed" || request.method !== "POST") return undefined;
  return (async () => {
    const body = (await request.json()) as SeedRequest;
    if (!body.service) return Response.json({ queued: await (env.SENDER.getByName(body.sender) as unknown as Seedable).benchSeed(body) });
    const config = requireConfig(env);
    const byObject = new Map<string, number[]>();
    for (let i = body.from ?? 0; i < (body.from ?? 0) + body.count; i++) {
      const name = senderObject(config, body.service, `${body.tag}-${i}`);
      const indexes = byObject.get(name) ?? [];
      indexes.push(i);
      byObject.set(name, indexes);
    }
    const queued: Record<string, number> = {};
    for (const [name, only] of byObject) queued[name] = await (env.SENDER.getByName(name) as unknown as Seedable).benchSeed({ ...body, sender: name, only });
    return Response.json({ queued });
  })();
}
