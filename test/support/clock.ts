import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Clock } from "../../src/do/storage";

type Stepped = DurableObjectStub<Rpc.DurableObjectBranded & { clock: Clock }>;

/**
 * Lets time pass for one object: moves its clock to the alarm's time and runs the alarm. Tests
 * step through retries and rate slots this way instead of sleeping. False when nothing is armed.
 */
export async function step(stub: Stepped): Promise<boolean> {
  const at = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
  if (at === null) return false;
  await runInDurableObject(stub, (instance) => (instance as unknown as { clock: Clock }).clock.skipTo(at));
  return runDurableObjectAlarm(stub);
}
