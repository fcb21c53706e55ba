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
  return liveEmulators(() => create(options), { cxone: B.CXONE_API_BASE, twilio: B.TWILIO_API_BASE }, options.perFile);
}

type Emulator = { app: { fetch(request: Request): Response | Promise<Response> }; faults: { clear(): void } };

/**
 * A live view of a set of emulators, each answering the Worker's requests to its origin: fresh
 * ones per test (or per file), their faults cleared after each test.
 */
export function liveEmulators<T extends Record<string, Emulator>>(create: () => T, origins: { [K in keyof T]: string }, perFile = false): T {
  let current = create();
  const names = Object.keys(origins) as (keyof T)[];
  const view = Object.defineProperties({} as T, Object.fromEntries(names.map((name) => [name, { get: () => current[name], enumerable: true }])));
  if (perFile) beforeAll(() => void (current = create()));
  beforeEach(() => {
    if (!perFile) current = create();
    network.use(...names.map((name) => serveOrigin(origins[name], (request) => (current[name] as Emulator).app.fetch(request))));
  });
  afterEach(() => {
    for (const name of names) (current[name] as Emulator).faults.clear();
  });
  return view;
}
