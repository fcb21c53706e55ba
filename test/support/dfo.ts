import { exports } from "cloudflare:workers";
import { createDfoEmulator } from "../../emulators/dfo/app";
import { createTwilioEmulator } from "../../emulators/twilio/app";
import { DFO_BINDINGS as D } from "./bindings";
import { bridgeFetch, liveEmulators } from "./emulators";

function create() {
  const dfo = createDfoEmulator({
    accessKeyId: D.CXONE_ACCESS_KEY_ID,
    accessKeySecret: D.CXONE_ACCESS_KEY_SECRET,
    clientId: D.CXONE_CLIENT_ID,
    clientSecret: D.CXONE_CLIENT_SECRET,
    origin: D.CXONE_API_BASE,
    bridgeUrl: D.PUBLIC_BASE_URL,
    byocClientId: D.CXONE_BYOC_CLIENT_ID,
    byocClientSecret: D.CXONE_BYOC_CLIENT_SECRET,
    fetch: bridgeFetch,
  });
  const twilio = createTwilioEmulator({ accountSid: D.TWILIO_ACCOUNT_SID, authToken: D.TWILIO_AUTH_TOKEN, bridgeUrl: D.PUBLIC_BASE_URL, fetch: bridgeFetch });
  return { dfo, twilio };
}

export type DfoEmulators = ReturnType<typeof create>;

/**
 * CXone's DFO side (emulators/dfo) and Twilio, answering the Worker's outbound HTTP in the DFO
 * project (test/dfo/); fresh ones per test. Any other outbound request fails the test.
 */
export function useDfoEmulators(): DfoEmulators {
  return liveEmulators(create, { dfo: D.CXONE_API_BASE, twilio: D.TWILIO_API_BASE });
}

/** A request straight into the Worker under test. */
export const worker = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`${D.PUBLIC_BASE_URL}${path}`, init));

/** The messages of the thread a customer has on a channel, as the emulated DFO holds it. */
export function threadOf(emu: DfoEmulators, channelId: string, customer: string) {
  return emu.dfo.state.threads.get(`${channelId}\n${customer}`);
}
