import { and, eq, sql } from "drizzle-orm";
import { numberOf } from "../../domain/compliance/e164";
import type { Db } from "./client";
import { statementOf } from "./prepared";
import { consentChanges, optOuts } from "./schema";

/** Places within one millisecond: a thread's queue position breaks ties between its own messages. */
const PLACES = 1024;

/**
 * The order key of a consent change made at `ms` (contract §5). A customer's keyword counts from when
 * the bridge received it, `place` (its position in the thread) ordering two keywords of the same
 * millisecond; an operator's or Twilio's change counts from when it was made, after any keyword
 * of that millisecond.
 */
export function consentOrder(ms: number, place = PLACES - 1): number {
  return ms * PLACES + (place % PLACES);
}

export interface ConsentChange {
  /** Every business key the change applies to: the number texted, its Messaging Service, "*". */
  businesses: string[];
  phone: string;
  state: "out" | "in";
  at: number;
  source: string;
}

/**
 * The statements that apply a consent change if, and only if, it is newer than the last change
 * recorded for that customer and business: first the order record moves (or does not), then the
 * suppression list follows whichever change the record now holds. Idempotent, so a replay or a
 * repair pass can run them again at any time; one D1 batch makes them one transaction.
 */
export function consentStatements(db: Db, input: ConsentChange, now = Date.now()) {
  // Keyed by the customer's number, whichever channel the keyword came on (see isSuppressed).
  const change = { ...input, phone: numberOf(input.phone) };
  return [...new Set(change.businesses)].flatMap((business) => {
    const holds = (state: "out" | "in") =>
      sql`EXISTS (SELECT 1 FROM ${consentChanges} WHERE business = ${business} AND phone = ${change.phone} AND at = ${change.at} AND state = ${state})`;
    return [
      db
        .insert(consentChanges)
        .values({ business, phone: change.phone, at: change.at, state: change.state })
        .onConflictDoUpdate({
          target: [consentChanges.business, consentChanges.phone],
          set: { at: sql`excluded.at`, state: sql`excluded.state` },
          setWhere: sql`excluded.at > ${consentChanges.at}`,
        }),
      db
        .insert(optOuts)
        .select(sql`SELECT ${business}, ${change.phone}, ${change.source}, ${now} WHERE ${holds("out")}`)
        .onConflictDoNothing(),
      db.delete(optOuts).where(and(eq(optOuts.business, business), eq(optOuts.phone, change.phone), holds("in"))),
    ];
  });
}

export async function applyConsent(db: Db, change: ConsentChange, now = Date.now()): Promise<void> {
  const statements = consentStatements(db, change, now);
  if (statements.length > 0) await db.$client.batch(statements.map((q) => statementOf(db, q)));
}
