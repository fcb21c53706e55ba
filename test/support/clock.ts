import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Clock } from "../../src/do/storage";

type Stepped = DurableObjectStub<Rpc.DurableObjectBranded & { clock: Clock }>;

/**
 * Lets time pass for one object: moves its clock to the alarm's time and runs the alarm. Tests
 * step through retries and rate slots this way instead of sleeping. False when nothing is armed.
 */
export async function step(stub: Stepped): Promise<boolean> {
  // A pass already running (its alarm fired on the wall clock meanwhile) keeps a watchdog alarm
  // 30 s on while it works: stepping to that would skip the object's clock 30 s (a rate test saw
  // its sends spread over 37 s instead of 7.8). Let the pass end and arm the alarm it means.
  await idle(stub);
  const at = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
  if (at === null) return false;
  await runInDurableObject(stub, (instance) => (instance as unknown as { clock: Clock }).clock.skipTo(at));
  return runDurableObjectAlarm(stub);
}

/** Waits for the object's running pass, if any (a thread starts one as it accepts a text). */
export async function idle(stub: Stepped): Promise<void> {
  await runInDurableObject(stub, async (instance) => {
    await (instance as unknown as { runner?: { running?: Promise<void> } }).runner?.running;
  });
}
