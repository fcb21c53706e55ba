import { twilioError, type TwilioError } from "./errors";
import { conforms, type FieldSchema } from "./openapi";
import { twilioOpenApi } from "./openapi-subset";

const FIELDS: Record<string, FieldSchema> = twilioOpenApi.createMessage.fields;
const QUERY: Record<string, FieldSchema> = twilioOpenApi.listMessagesQuery;

// Twilio's error dictionary has no "unknown parameter" / "malformed value" code for Messages
// beyond its generic 20001 ("Unknown parameters"), so that is what every schema violation
// without a dedicated code below gets.
const UNKNOWN = 20001;

/** Twilio's dedicated codes for a malformed value of these fields. */
const MALFORMED: Record<string, [number, string]> = {
  To: [21211, "Invalid 'To' Phone Number"],
  From: [21212, "Invalid 'From' Phone Number"],
  StatusCallback: [21609, "Invalid StatusCallback url"],
  MediaUrl: [21620, "Invalid media URL(s)"],
  // A malformed SID names no service; Twilio's wording for that is 21701.
  MessagingServiceSid: [21701, "The Messaging Service does not exist"],
  // A malformed Content SID names no template, as an unknown one does.
  ContentSid: [21655, "The ContentSid is Invalid"],
};

/** Twilio's codes for a missing required field. */
const MISSING: Record<string, [number, string]> = {
  To: [21604, "A 'To' phone number is required."],
};

const BODY_MAX_CHARS = 1600;
const MEDIA_MAX = 10;

/** Every field name known to the description, each value of the type and format it declares. */
function checkAgainstSchema(params: URLSearchParams, schemas: Record<string, FieldSchema>): TwilioError | undefined {
  for (const name of new Set(params.keys())) {
    const schema = schemas[name];
    if (!schema) return twilioError(400, UNKNOWN, `Unknown parameter: ${name}`);
    const values = params.getAll(name);
    // Only array fields may repeat; a second Body or To is a client bug the real API would hide.
    if (schema.type !== "array" && values.length > 1) return twilioError(400, UNKNOWN, `${name} may be given only once`);
    // An empty value counts as absent, as Twilio treats it.
    const wrong = values.find((v) => v !== "" && !conforms(v, schema.items ?? schema));
    if (wrong !== undefined) {
      const [code, message] = MALFORMED[name] ?? [UNKNOWN, `Invalid value for ${name}`];
      return twilioError(400, code, `${message}: ${wrong}`);
    }
  }
  return undefined;
}

/** A create-message form, checked the way the real API answers it (CreateMessageRequest). */
export function validateCreate(form: URLSearchParams): TwilioError | undefined {
  const invalid = checkAgainstSchema(form, FIELDS);
  if (invalid) return invalid;
  for (const name of twilioOpenApi.createMessage.required) {
    if (!form.get(name)) {
      const [code, message] = MISSING[name] ?? [UNKNOWN, `${name} is required`];
      return twilioError(400, code, message);
    }
  }
  if (!form.get("From") && !form.get("MessagingServiceSid")) return twilioError(400, 21603, "A 'From' phone number is required.");
  const body = form.get("Body") ?? "";
  const media = form.getAll("MediaUrl").filter(Boolean);
  if (!body && media.length === 0 && !form.get("ContentSid")) return twilioError(400, 21602, "Message body is required.");
  // "Up to 1,600 characters": characters, not UTF-16 units (an emoji is one).
  if ([...body].length > BODY_MAX_CHARS) return twilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
  if (media.length > MEDIA_MAX) return twilioError(400, 21623, "Number of media files exceeds allowed limit");
  return undefined;
}

/** The list query: only the parameters GET Messages.json declares, each well-formed. */
export function validateListQuery(query: URLSearchParams): TwilioError | undefined {
  return checkAgainstSchema(query, QUERY);
}
