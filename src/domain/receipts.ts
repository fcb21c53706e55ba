import type { CxoneStatus, StatusReport } from "../adapters/cxone/schemas";

/** CXone status bodies (SPEC §4). Only these leave the bridge; never a message text. */
export function report(
  status: CxoneStatus,
  at: Date,
  extra: { providerMessageId?: string | null; errorCode?: string | number | null; errorMessage?: string | null } = {},
): StatusReport {
  return {
    status,
    deliveryReceipt: {
      status,
      timestamp: at.toISOString(),
      ...(extra.providerMessageId ? { providerMessageId: extra.providerMessageId } : {}),
      ...(extra.errorCode !== undefined && extra.errorCode !== null ? { errorCode: String(extra.errorCode) } : {}),
      ...(extra.errorMessage ? { errorMessage: extra.errorMessage } : {}),
    },
  };
}
