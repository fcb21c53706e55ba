import { and, desc, eq } from "drizzle-orm";
import type { Db } from "./client";
import { deadLetters } from "./schema";

export interface NewDeadLetter {
  kind: "inbound" | "outbound" | "status";
  ref: string;
  conversationId?: string | null;
  reason: string;
  attempts: number;
}

/** The statement that files (or re-opens) a dead letter, for use alone or in a batch. */
export function deadLetterStatement(db: Db, letter: NewDeadLetter, now = Date.now()) {
  return db
    .insert(deadLetters)
    .values({ ...letter, conversationId: letter.conversationId ?? null, createdAt: now })
    .onConflictDoUpdate({
      target: [deadLetters.kind, deadLetters.ref],
      set: { state: "open", reason: letter.reason, attempts: letter.attempts, createdAt: now, retriedAt: null },
    });
}

export async function recordDeadLetter(db: Db, letter: NewDeadLetter, now = Date.now()): Promise<void> {
  await deadLetterStatement(db, letter, now);
}

export async function openDeadLetters(db: Db, limit = 100) {
  return db.select().from(deadLetters).where(eq(deadLetters.state, "open")).orderBy(desc(deadLetters.createdAt)).limit(limit);
}

export async function deadLetterById(db: Db, id: number) {
  return db.select().from(deadLetters).where(eq(deadLetters.id, id)).get();
}

export async function markRetried(db: Db, id: number, now = Date.now()): Promise<void> {
  await db.update(deadLetters).set({ state: "retried", retriedAt: now }).where(and(eq(deadLetters.id, id), eq(deadLetters.state, "open")));
}
