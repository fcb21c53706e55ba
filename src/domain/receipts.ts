import type { Receipt, ReceiptStatus } from "./cxone";

/** A report about an outbound message, as the outbox keeps it. Never a message text. */
export function report(
  status: ReceiptStatus,
  at: Date,
  extra: { providerMessageId?: string | null; errorCode?: string | number | null; errorMessage?: string | null } = {},
): Receipt {
  return {
    status,
    at: at.toISOString(),
    ...(extra.providerMessageId ? { providerMessageId: extra.providerMessageId } : {}),
    ...(extra.errorCode !== undefined && extra.errorCode !== null ? { errorCode: String(extra.errorCode) } : {}),
    ...(extra.errorMessage ? { errorMessage: extra.errorMessage } : {}),
  };
}
