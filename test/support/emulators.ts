import { exports } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach } from "vitest";
import { createCxoneEmulator } from "../../emulators/cxone/app";
import { createTwilioEmulator } from "../../emulators/twilio/app";
import { TEST_BINDINGS as B } from "./bindings";
import { network, serveOrigin } from "./network";

/** Requests the emulators make to the bridge go straight into the Worker under test. */
export const bridgeFetch: typeof fetch = (input, init) => exports.default.fetch(new Request(input as RequestInfo, init));

export interface EmulatorOptions {
  pushAuth?: "bearer" | "hmac";
  /**
   * One pair of emulators for the whole file instead of fresh ones per test. Needed where the
   * bridge keeps state that points into CXone across tests (the poll cursor lives as long as the
   * file's storage does).
   */
  perFile?: boolean;
}

function create(options: EmulatorOptions) {
  const cxone = createCxoneEmulator({
    clientId: B.CXONE_CLIENT_ID,
    clientSecret: B.CXONE_CLIENT_SECRET,
    bridgeUrl: B.PUBLIC_BASE_URL,
    webhookSecret: B.CXONE_WEBHOOK_SECRET,
    pushAuth: options.pushAuth,
    fetch: bridgeFetch,
  });
  const twilio = createTwilioEmulator({
    accountSid: B.TWILIO_ACCOUNT_SID,
    authToken: B.TWILIO_AUTH_TOKEN,
    bridgeUrl: B.PUBLIC_BASE_URL,
    fetch: bridgeFetch,
  });
  return { cxone, twilio };
}

export type Emulators = ReturnType<typeof create>;

/**
 * Emulators answering the Worker's outbound HTTP to the test origins; any other outbound
 * request stays unhandled and fails the test. Returns a live view: `emu.cxone` is the current one.
 */
export function useEmulators(options: EmulatorOptions = {}): Emulators {
  let current = create(options);
  const view = {
    get cxone() {
      return current.cxone;
    },
    get twilio() {
      return current.twilio;
    },
  } as Emulators;
  if (options.perFile) beforeAll(() => void (current = create(options)));
  beforeEach(() => {
    if (!options.perFile) current = create(options);
    network.use(
      serveOrigin(B.CXONE_API_BASE, (request) => current.cxone.app.fetch(request)),
      serveOrigin(B.TWILIO_API_BASE, (request) => current.twilio.app.fetch(request)),
    );
  });
  afterEach(() => {
    current.cxone.faults.clear();
    current.twilio.faults.clear();
  });
  return view;
}
