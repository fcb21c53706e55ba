import { z } from "zod";
import { isE164 } from "../domain/compliance/e164";

// A repeated name arrives as an array: say so, rather than "expected string".
const text = () => z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must appear once") });
export const e164 = text().refine(isE164, "must be an E.164 number (+ and 8–15 digits)");
export const sid = (prefix: string) => text().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`), `must be a Twilio SID (${prefix}…)`);
export const single = text();

