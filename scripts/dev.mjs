/** `npm run dev`: the bridge on :8787 with local D1, Durable Objects and both emulators. */
import { rmSync } from "node:fs";
import { startStack } from "./stack.mjs";

// The emulators keep everything in memory and start empty; the bridge's local state must too.
// Kept from a previous run, the poller's CXone cursor pointed past the new feed's end and the
// next polled replies were never seen.
const persistTo = ".wrangler/dev-state";
rmSync(persistTo, { recursive: true, force: true });
const stack = await startStack({ persistTo, tickSeconds: Number(process.env.CRON_TICK_SECONDS ?? 10) });
console.log(`
  bridge   ${stack.bridgeUrl}        (health: ${stack.bridgeUrl}/healthz)
  twilio   ${stack.twilioUrl}   (emulator; sent messages: ${stack.twilioUrl}/_emu/messages)
  cxone    ${stack.cxoneUrl}   (emulator; conversations: ${stack.cxoneUrl}/_emu/conversations)
  cron     ticking every ${process.env.CRON_TICK_SECONDS ?? 10}s via /__scheduled

  In another terminal: npm run demo
`);
const shutdown = async () => {
  await stack.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
