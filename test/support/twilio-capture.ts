import { checkSignature, parseForm } from "../../src/adapters/twilio/signature";
import { createTwilioEmulator, type TwilioEmulatorOptions } from "../../emulators/twilio/app";

/** The account, token and API key the emulator tests talk to a Twilio emulator with. */
export const CAPTURE: { ACCOUNT: string; TOKEN: string; KEY: string } = { ACCOUNT: `AC${"1".repeat(32)}`, TOKEN: "emulator-token", KEY: `SK${"2".repeat(32)}` };

// Bodies are decoded by hand: workerd warns on .text() of a form body.
export const textOf = async (r: Request | Response) => new TextDecoder().decode(await r.clone().arrayBuffer());
export const formOf = async (r: Request) => Object.fromEntries(new URLSearchParams(await textOf(r)));
/** Whether the bridge's own check takes the request's signature, for the URL it was sent to unless told. */
export const signedFor = async (request: Request, url = request.url) =>
  (await checkSignature([CAPTURE.TOKEN], request.headers.get("x-twilio-signature"), url, parseForm(await textOf(request)))).valid;

/** An emulator whose webhooks and callbacks land in `captured` instead of the network. */
export function capturingEmulator(options: Partial<TwilioEmulatorOptions> = {}) {
  const captured: Request[] = [];
  const emu = createTwilioEmulator({
    accountSid: CAPTURE.ACCOUNT,
    authToken: CAPTURE.TOKEN,
    apiKeys: { [CAPTURE.KEY]: "key-secret" },
    bridgeUrl: "https://bridge.example",
    fetch: async (input, init) => {
      captured.push(new Request(input as RequestInfo, init));
      return new Response("<Response></Response>", { status: 200, headers: { "content-type": "text/xml" } });
    },
    ...options,
  });
  return { emu, captured };
}
