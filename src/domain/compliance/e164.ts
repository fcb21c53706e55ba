/**
 * Addresses (contract §5). Customers are E.164: a "+" and 7–15 digits, no leading zero in the country
 * code (+290 and +683 numbers have 7). The business side may also be a short code, and a sender
 * a Messaging Service. Nothing is ever "fixed" silently.
 */
const E164 = /^\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;
const MESSAGING_SERVICE = /^MG[0-9a-fA-F]{32}$/;

export const E164_RULE = "must be an E.164 number (+ and 7–15 digits)";

export function isE164(value: string): boolean {
  return E164.test(value);
}

export function isMessagingService(value: string): boolean {
  return MESSAGING_SERVICE.test(value);
}

/** A number a customer texts: E.164 or a short code. */
export function isBusinessNumber(value: string): boolean {
  return E164.test(value) || SHORT_CODE.test(value);
}

/** What can send (and owns a rate bucket): a business number or a Messaging Service. */
export function isSenderKey(value: string): boolean {
  return isBusinessNumber(value) || MESSAGING_SERVICE.test(value);
}

/** Masks a phone number to its last four digits, for logs and error messages. */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, "");
  return digits.length <= 4 ? "***" : `***${digits.slice(-4)}`;
}
