import { isFresh, type Token, type TokenSource } from "./token";

// Per-isolate copy, so the hot path costs no round trip to the token object.
let local: Token | undefined;

export function tokenSource(env: Env): TokenSource {
  const holder = () => env.CXONE_TOKEN.getByName("cxone-token");
  return {
    async get() {
      if (!isFresh(local)) local = await holder().getToken();
      return local;
    },
    async invalidate(stale) {
      if (local?.value === stale) local = undefined;
      await holder().invalidate(stale);
    },
  };
}
