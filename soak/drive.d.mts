/** The soak's client of the bridge and the emulators (soak/drive.mjs); typed for the tests that use it. */
export function driver(
  stack: { bridgeUrl: string; twilioUrl: string },
  tokens: Record<string, string>,
  opts?: { signal?: AbortSignal; say?: (line: string) => void },
): {
  known(id: string): Promise<boolean>;
  queued(id: string): Promise<boolean>;
  message(id: string): Promise<Record<string, unknown> | undefined>;
  [key: string]: unknown;
};
