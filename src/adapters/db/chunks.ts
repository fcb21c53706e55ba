import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";

/**
 * D1 takes a bound string of at most 2,000,000 bytes, and a batch of 100,000 recipients' keys or
 * numbers as one JSON array can be larger: lists read through `json_each(?)` go in chunks of at
 * most this many bytes each (one D1 batch, one round trip, for all of them).
 */
const MAX_CHUNK_BYTES = 1_000_000;

/** `values` as JSON arrays of at most MAX_CHUNK_BYTES each, in order. */
export function jsonChunks(values: readonly string[], maxBytes = MAX_CHUNK_BYTES): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const value of values) {
    const size = new TextEncoder().encode(JSON.stringify(value)).length + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(JSON.stringify(current));
      current = [];
      bytes = 2;
    }
    current.push(value);
    bytes += size;
  }
  if (current.length > 0) chunks.push(JSON.stringify(current));
  return chunks;
}

/**
 * Of `values`, the ones `query` finds: it reads one chunk (a JSON array for `json_each`) and
 * selects the found values as `value`. Every chunk in one D1 batch: one round trip.
 */
export async function foundAmong(db: Db, values: readonly string[], query: (chunk: string) => BatchItem<"sqlite">): Promise<Set<string>> {
  const [first, ...rest] = jsonChunks(values).map(query);
  if (!first) return new Set();
  const results = (await db.batch([first, ...rest])) as { value: string }[][];
  return new Set(results.flat().map((r) => r.value));
}
