import { DurableObject } from "cloudflare:workers";
import { requestTokenFor } from "../adapters/cxone/port";
import { isFresh, type Token } from "../adapters/cxone/token";
import { entryEnv } from "../entry-env";
import { log } from "../log";

/**
 * The one holder of the CXone access token for the whole deployment: every isolate asks here
 * when its own copy runs out, so token requests scale with token lifetimes, not with traffic.
 * Kept in memory only; a restarted object simply asks CXone again.
 */
export class CxoneTokenDO extends DurableObject<Env> {
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, entryEnv(env));
  }

  async getToken(): Promise<Token> {
    if (isFresh(this.token)) return this.token;
    // Requests that arrive while a refresh is under way share it.
    this.pending ??= requestTokenFor(this.env)
      .then((token) => {
        this.token = token;
        log("info", "cxone.token_refreshed", {});
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  async invalidate(stale: string): Promise<void> {
    if (this.token?.value === stale) this.token = undefined;
  }

  /** The DFO origin in use when it was discovered with the token (contract §8; /healthz shows it). */
  async discoveredOrigin(): Promise<string | undefined> {
    return (await this.getToken()).apiBase;
  }
}
