import type { Config } from "../../../config";
import { sha256Hex } from "../../../crypto";

/**
 * DFO channels and the bridge's own message ids (contract §8). CXONE_DFO_CHANNELS maps a business
 * sender (the number a customer texts, or a Messaging Service) to its channel; "*" is the default.
 */
export function channelFor(config: Config, ...senders: (string | null | undefined)[]): string | undefined {
  for (const sender of senders) if (sender && config.dfoChannels[sender]) return config.dfoChannels[sender];
  return config.dfoChannels["*"];
}

/**
 * Who sends a reply that CXone hands over on `channelId`: the first sender mapped to it (map one
 * channel per number to answer from the number the customer texted). The default channel sends
 * from the deployment's default sender (undefined here: TWILIO_FROM_NUMBER / the Messaging Service).
 */
export function senderForChannel(config: Config, channelId: string): string | undefined {
  return Object.entries(config.dfoChannels).find(([sender, channel]) => sender !== "*" && channel === channelId)?.[0];
}

export function isKnownChannel(config: Config, channelId: string): boolean {
  return Object.values(config.dfoChannels).includes(channelId);
}

/**
 * The id the bridge gives a message it sends (an agent's reply, an alert): its channel, then a
 * digest of what identifies it. The channel travels inside the id, so a report about the message
 * needs no lookup to find where it goes: `PUT …/channels/{channel}/messages/{id}/status`.
 */
export async function messageIdOf(channelId: string, kind: "c" | "h" | "p", identity: string): Promise<string> {
  return `${channelId}${SEPARATOR}${kind}-${(await sha256Hex(identity)).slice(0, 32)}`;
}

const SEPARATOR = "~";

/** The channel a bridge-issued message id names (see messageIdOf). */
export function channelOfMessage(id: string): string | undefined {
  const at = id.lastIndexOf(SEPARATOR);
  return at > 0 ? id.slice(0, at) : undefined;
}
