/**
 * The configuration every in-workerd test runs with: emulator origins that only the test
 * network answers, dummy secrets, and short retry timings so backoff is visible in a test.
 */
export const TEST_BINDINGS = {
  PUBLIC_BASE_URL: "https://bridge.test",
  TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
  TWILIO_AUTH_TOKEN: "test-auth-token",
  TWILIO_AUTH_TOKEN_SECONDARY: "",
  TWILIO_API_BASE: "https://twilio.test",
  TWILIO_FROM_NUMBER: "+15550001000",
  TWILIO_MESSAGING_SERVICE_SID: "",
  CXONE_API_BASE: "https://cxone.test",
  CXONE_TOKEN_URL: "https://cxone.test/auth/token",
  CXONE_CLIENT_ID: "test-client",
  CXONE_CLIENT_SECRET: "test-client-secret",
  CXONE_WEBHOOK_SECRET: "test-webhook-secret",
  ADMIN_TOKEN: "test-admin-token",
  API_TOKEN: "test-api-token",
  SENDER_MPS: "5",
  // A fast sender for the tests that drain a thousand messages.
  // A Messaging Service at 40/s: split over MESSAGING_SERVICE_SHARDS (default 4) objects of 10/s.
  SENDER_MPS_OVERRIDES: JSON.stringify({ "+15550009000": 500, "+15550009001": 500, "+15550009002": 100_000, [`MG${"5".repeat(32)}`]: 40 }),
  UPSTREAM_TIMEOUT_MS: "300",
  RETRY_BASE_MS: "1000",
  RETRY_CAP_MS: "60000",
  RETRY_MAX_ATTEMPTS: "5",
  // Waits for a rate slot longer than this go to the alarm, which tests step instead of sleeping.
  SENDER_INLINE_WAIT_MS: "50",
  // contract §9: a WhatsApp sender and two templates (the Twilio emulator knows the same Content SIDs).
  WHATSAPP_FROM_NUMBER: "whatsapp:+15550007000",
  WHATSAPP_TEMPLATES: JSON.stringify({ flight_update: "HX00000000000000000000000000000001", "flight_update:es": "HX00000000000000000000000000000002" }),
  WHATSAPP_MPS: "20",
} as const;

/** The same, for the DFO project (test/dfo/): CXONE_API_MODE=dfo, a channel per business number. */
export const SERVICE_SID = `MG${"d".repeat(32)}`;
export const DFO_BINDINGS = {
  ...TEST_BINDINGS,
  CXONE_API_MODE: "dfo",
  CXONE_ACCESS_KEY_ID: "test-access-key-id",
  CXONE_ACCESS_KEY_SECRET: "test-access-key-secret",
  CXONE_DFO_CHANNELS: JSON.stringify({ "+15550001000": "chat_main", "+15550002000": "chat_second", [SERVICE_SID]: "chat_service", "whatsapp:+15550007000": "chat_whatsapp", "*": "chat_main" }),
  CXONE_BYOC_CLIENT_ID: "test-byoc-client",
  CXONE_BYOC_CLIENT_SECRET: "test-byoc-secret",
} as const;
