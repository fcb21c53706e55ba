import { cxoneClient } from "./adapters/cxone/client";
import { tokenSource } from "./adapters/cxone/token-source";
import { database } from "./adapters/db/client";
import { businessNumberOf, claimOutbound, isSuppressed, outboundByCxoneId, updateOutbound } from "./adapters/db/outbound";
import { queueReport } from "./adapters/db/outbox";
import type { Ready } from "./config";
import { policyFrom } from "./domain/backoff";
import type { AcceptDeps } from "./domain/outbound/accept";
import { flushReports } from "./domain/outbox";
import { report } from "./domain/receipts";

/** Wires the domain's small interfaces to D1, the Durable Objects and the CXone client. */
export function cxoneFor(env: Env, config: Ready) {
  return cxoneClient(config, tokenSource(env));
}

/** Marks a message failed before sending and reports FAILED to CXone (retried by the reconciler if CXone is down). */
export async function refuseOutbound(env: Env, config: Ready, cxoneMessageId: string, code: string, message: string): Promise<void> {
  const db = database(env.DB);
  await updateOutbound(db, cxoneMessageId, { state: "failed", errorCode: code, lastError: message, checkAt: null });
  const id = await queueReport(db, cxoneMessageId, report("FAILED", new Date(), { errorCode: code, errorMessage: message }));
  if (id !== undefined) await flushReports(db, cxoneFor(env, config), policyFrom(config), { ids: [id] });
}

export function acceptDeps(env: Env, config: Ready): AcceptDeps {
  const db = database(env.DB);
  return {
    businessNumberOf: (id) => businessNumberOf(db, id),
    claim: (row) => claimOutbound(db, row),
    existing: async (id) => {
      const row = await outboundByCxoneId(db, id);
      return row ? { state: row.state, sender: row.sender } : undefined;
    },
    isSuppressed: (phone, businesses) => isSuppressed(db, phone, businesses),
    refuse: (id, code, message) => refuseOutbound(env, config, id, code, message),
    enqueue: async (sender, job) => {
      await env.SENDER.getByName(sender).enqueue(sender, job);
    },
  };
}
