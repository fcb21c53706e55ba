/** A Twilio REST API error: the HTTP status, Twilio's error code and its message. */
export interface TwilioError {
  status: 400 | 401 | 404;
  code: number;
  message: string;
}

export const twilioError = (status: TwilioError["status"], code: number, message: string): TwilioError => ({ status, code, message });

/** The JSON Twilio answers an error with. */
export function errorBody(e: TwilioError) {
  return { code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status: e.status };
}
