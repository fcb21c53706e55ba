/** E.164: a "+" and 8–15 digits, no leading zero in the country code. Never "fixed" silently. */
const E164 = /^\+[1-9]\d{7,14}$/;

export function isE164(value: string): boolean {
  return E164.test(value);
}

/** Masks a phone number to its last four digits, for logs and error messages. */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, "");
  return digits.length <= 4 ? "***" : `***${digits.slice(-4)}`;
}
