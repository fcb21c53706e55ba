import { requireConfig } from "../../config";
import type { CxonePort } from "../../domain/cxone";
import { fetchTwilioMedia } from "../twilio/media";
import { dfoPort } from "./dfo/port";
import { requestDfoToken } from "./dfo/token";
import type { CxoneApi } from "./open-messaging/client";
import { openMessagingPort } from "./open-messaging/port";
import { requestToken } from "./open-messaging/token";
import type { Token } from "./token";
import { tokenSource } from "./token-source";

/**
 * The one place CXONE_API_MODE is read (contract §1): the CXone port of the deployment's dialect.
 * Everything else — threading, sending, receipts, proactive, reconciliation — talks to the port.
 */
export function cxonePort(env: Env): CxonePort {
  const config = requireConfig(env);
  return config.CXONE_API_MODE === "dfo"
    ? dfoPort(requireConfig(env, "dfo"), tokenSource(env), (url) => fetchTwilioMedia(config, url))
    : openMessagingPort(requireConfig(env, "open-messaging"), tokenSource(env));
}

/** The token grant of the deployment's dialect, for the token holder (CxoneTokenDO). */
export function requestTokenFor(env: Env): Promise<Token> {
  return requireConfig(env).CXONE_API_MODE === "dfo" ? requestDfoToken(requireConfig(env, "dfo")) : requestToken(requireConfig(env, "open-messaging"));
}

/** The open-messaging client, for what only that dialect has (the Cron's cursor poll). */
export function openMessagingApi(env: Env): CxoneApi {
  return openMessagingPort(requireConfig(env, "open-messaging"), tokenSource(env)).api;
}
