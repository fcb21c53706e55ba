/**
 * Addresses (contract §5). Customers are E.164: a "+" and 7–15 digits, no leading zero in the country
 * code (+290 and +683 numbers have 7). The business side may also be a short code, and a sender
 * a Messaging Service. WhatsApp addresses are an E.164 number behind `whatsapp:` (contract §9), on
 * both sides. Nothing is ever "fixed" silently.
 */
const E164 = /^\+[1-9]\d{6,14}$/;
const WHATSAPP = /^whatsapp:\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;
const MESSAGING_SERVICE = /^MG[0-9a-fA-F]{32}$/;

export const E164_RULE = "must be an E.164 number (+ and 7–15 digits)";
export const CUSTOMER_RULE = "must be an E.164 number (+ and 7–15 digits) or whatsapp:+ and one";

export type Channel = "sms" | "whatsapp";

export function isE164(value: string): boolean {
  return E164.test(value);
}

export function isWhatsApp(value: string | null | undefined): value is string {
  return typeof value === "string" && WHATSAPP.test(value);
}

/** A customer's address: an E.164 number (SMS, MMS) or its WhatsApp address. */
export function isCustomerAddress(value: string): boolean {
  return E164.test(value) || WHATSAPP.test(value);
}

export function channelOf(address: string): Channel {
  return address.startsWith("whatsapp:") ? "whatsapp" : "sms";
}

/** The phone number behind an address: what the suppression list and time zones are keyed by. */
export function numberOf(address: string): string {
  return address.startsWith("whatsapp:") ? address.slice("whatsapp:".length) : address;
}

/** The address of `number` on `channel`. */
export function onChannel(number: string, channel: Channel): string {
  const bare = numberOf(number);
  return channel === "whatsapp" ? `whatsapp:${bare}` : bare;
}

export function isMessagingService(value: string): boolean {
  return MESSAGING_SERVICE.test(value);
}

/** A number a customer texts: E.164 or a short code (SMS), or a WhatsApp sender. */
export function isBusinessNumber(value: string): boolean {
  return E164.test(value) || SHORT_CODE.test(value) || WHATSAPP.test(value);
}

/** What can send (and owns a rate bucket): a business number, a WhatsApp sender or a Messaging Service. */
export function isSenderKey(value: string): boolean {
  return isBusinessNumber(value) || MESSAGING_SERVICE.test(value);
}

/** Masks a phone number to its last four digits, for logs and error messages. */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, "");
  return digits.length <= 4 ? "***" : `***${digits.slice(-4)}`;
}
