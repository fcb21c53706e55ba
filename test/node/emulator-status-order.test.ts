import { describe, expect, it } from "vitest";
import { createTwilioEmulator } from "../../emulators/twilio/app";

/**
 * The Twilio emulator's record of a sent message must end at its outcome however late its timers
 * fire. The soak under CI load found two replies whose record stayed "sent" for good (the bridge
 * asked Twilio for minutes and was told "sent", so no DELIVERED receipt ever came): with one
 * timer per step, all set at once, Node ran the later step's timer before the earlier one's when
 * the event loop lagged. Run in Node, whose timers these are.
 */
const ACCOUNT = `AC${"1".repeat(32)}`;
const TOKEN = "token";
const STEP_MS = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const block = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};

describe("the Twilio emulator's status steps", () => {
  it("end at the outcome, in order, when the event loop lags between them", async () => {
    const emu = createTwilioEmulator({ accountSid: ACCOUNT, authToken: TOKEN, bridgeUrl: "http://127.0.0.1:9", autoStatus: { stepMs: STEP_MS }, fetch: async () => new Response(null, { status: 200 }) });
    const send = async (to: string) => {
      const res = await emu.app.fetch(
        new Request(`https://twilio.test/2010-04-01/Accounts/${ACCOUNT}/Messages.json`, {
          method: "POST",
          headers: { authorization: `Basic ${btoa(`${ACCOUNT}:${TOKEN}`)}`, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ To: to, From: "+15550001000", Body: "hi", StatusCallback: "http://127.0.0.1:9/twilio/status" }),
        }),
      );
      expect(res.status).toBe(201);
      return ((await res.json()) as { sid: string }).sid;
    };
    // One message's last step still to come while a second message starts, then a lag long
    // enough for all of the second's steps to be due at once.
    await send("+14155550100");
    await sleep(STEP_MS * 2.5);
    const second = await send("+14155550101");
    block(STEP_MS * 10);
    // Then time for the steps, a step apart once the loop is free again.
    await sleep(STEP_MS * 6);
    expect(emu.messages().find((m) => m.sid === second)?.status).toBe("delivered");
  });
});
