/**
 * How the emulators call the bridge (Twilio's webhooks and status callbacks, CXone's pushes): as
 * Twilio does, a call that has not been answered in 15 seconds has failed (Twilio's error 11200).
 */
export function webhookClient(timeoutMs = 15_000): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}
