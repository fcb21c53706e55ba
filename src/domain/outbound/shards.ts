import { senderRate, type Config } from "../../config";
import { isMessagingService } from "../compliance/e164";

/**
 * A Messaging Service carries every message of a deployment that uses one, so its queue is split
 * over `MESSAGING_SERVICE_SHARDS` sender objects (contract §10: no object on every message's
 * path). A conversation always lands on the same shard (a hash of its id), so its order is kept
 * by that shard as by a single sender. The service's rate is divided in whole segments per
 * second: a shard allowed q segments/s never puts more than q into one second (the bucket's
 * guard), so the shards together never put more than the service's rate into one second. A
 * fraction would not add up that way, so a rate below two per second, or not a whole number,
 * stays on one object.
 */

/** How many objects carry `key`'s queue: 1 for a phone number. */
export function shardCount(config: Config, key: string): number {
  if (!isMessagingService(key)) return 1;
  const rate = senderRate(config, key);
  if (!Number.isInteger(rate)) return 1;
  return Math.max(1, Math.min(config.MESSAGING_SERVICE_SHARDS, rate));
}

/** Shard `shard`'s whole share of `rate` (the first `rate mod shards` take one more). */
export function shareOf(rate: number, shards: number, shard: number): number {
  if (shards <= 1) return rate;
  return Math.floor(rate / shards) + (shard < rate % shards ? 1 : 0);
}

/** The sender object (Durable Object name) that queues a conversation's messages from `key`. */
export function senderObject(config: Config, key: string, conversationId: string): string {
  const shards = shardCount(config, key);
  return shards === 1 ? key : `${key}#${hashOf(conversationId) % shards}`;
}

/** Segments per second for a sender object: a sender's rate, or a shard's share of its service's. */
export function objectRate(config: Config, name: string): number {
  const { key, shard } = parseSenderObject(name);
  const rate = senderRate(config, key);
  return shard === undefined ? rate : shareOf(rate, shardCount(config, key), shard);
}

/** Every object that carries `key`'s queue (operators read them together). */
export function senderObjects(config: Config, key: string): string[] {
  const shards = shardCount(config, key);
  return shards === 1 ? [key] : Array.from({ length: shards }, (_, k) => `${key}#${k}`);
}

/** The sender an object name stands for, and its shard. */
export function parseSenderObject(name: string): { key: string; shard?: number } {
  const at = name.lastIndexOf("#");
  if (at < 0) return { key: name };
  return { key: name.slice(0, at), shard: Number(name.slice(at + 1)) };
}

/**
 * FNV-1a over the id's UTF-16 units, then murmur3's finalizer: stable across deploys and runtimes,
 * and every bit mixed — FNV-1a's low bits alone follow the last characters, so ids that count up
 * would take the shards in turn, a split no real traffic gets (the bench must see the real one).
 */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}
