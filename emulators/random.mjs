/**
 * One seed for a whole soak run: its workload (soak/plan.mjs) and the faults each emulator draws
 * (emulators/server.ts, EMU_SEED) come from streams of the same seed, so a printed seed replays
 * the run's plan and its fault draws. Plain JavaScript so that both Node scripts and tsx load it.
 */

/** A small deterministic PRNG (mulberry32). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Numbers in [0, 1) from `seed`, a stream of their own per name (FNV-1a of the name mixed into the seed). */
export function seededRandom(seed, stream) {
  let h = 0x811c9dc5;
  for (const ch of stream) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return mulberry32((seed >>> 0) ^ (h >>> 0));
}
