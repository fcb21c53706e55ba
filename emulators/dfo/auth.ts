import { Hono, type Context } from "hono";
import { dfoError } from "./http";
import type { DfoState } from "./state";

/** CXone's identity side as the emulator plays it: the token endpoint (access-key password grant, refresh), bearer checks, discovery. */

const encoder = new TextEncoder();

function base64url(text: string): string {
  return btoa(String.fromCharCode(...encoder.encode(text))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const randomHex = () => [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The user and secret of an HTTP Basic header (UTF-8), or undefined when it is not one. */
export function decodeBasic(header: string | undefined): { user: string; secret: string } | undefined {
  const match = /^basic\s+(\S+)$/i.exec(header ?? "");
  if (!match) return undefined;
  try {
    const text = new TextDecoder().decode(Uint8Array.from(atob(match[1]!), (ch) => ch.charCodeAt(0)));
    const colon = text.indexOf(":");
    return colon < 0 ? undefined : { user: text.slice(0, colon), secret: text.slice(colon + 1) };
  } catch {
    return undefined;
  }
}

export interface TokenIssuerOptions {
  tenantId: string;
  clientId: string;
  ttlSec: number;
  now: () => number;
}

/**
 * Tokens carry the issuer's epoch and their expiry, so any emulator instance can check them
 * without storage; revoking bumps the epoch, which invalidates every token issued before.
 */
export class TokenIssuer {
  private epoch = 0;

  constructor(private readonly options: TokenIssuerOptions) {}

  issue() {
    const { now, ttlSec, tenantId, clientId } = this.options;
    const issuedAt = Math.floor(now() / 1000);
    const expiresMs = now() + ttlSec * 1000;
    // CXone's id_token is a signed JWT; the bridge only reads its claims, so the signature is a placeholder.
    const idToken = [
      base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "dfo-emulator" })),
      base64url(
        JSON.stringify({
          iss: "https://cxone.niceincontact.com",
          sub: "user:11ed0000-dfo0-emu0-0000-000000000042",
          aud: clientId,
          tenantId,
          name: "bridge@emulator",
          iat: issuedAt,
          exp: issuedAt + ttlSec,
        }),
      ),
      base64url("sig"),
    ].join(".");
    return {
      access_token: `dfo.${this.epoch}.${expiresMs}.${randomHex()}`,
      token_type: "Bearer",
      expires_in: ttlSec,
      refresh_token: `dfo-refresh.${this.epoch}.${randomHex()}`,
      id_token: idToken,
    };
  }

  bearerValid(header: string | undefined): boolean {
    const match = /^bearer dfo\.(\d+)\.(\d+)\.[0-9a-f]+$/i.exec(header ?? "");
    return match !== null && Number(match[1]) === this.epoch && Number(match[2]) > this.options.now();
  }

  refreshValid(token: string | null): boolean {
    const match = /^dfo-refresh\.(\d+)\.[0-9a-f]+$/.exec(token ?? "");
    return match !== null && Number(match[1]) === this.epoch;
  }

  revoke(): number {
    return (this.epoch += 1);
  }
}

export interface IdentityOptions {
  accessKeyId: string;
  accessKeySecret: string;
  clientId: string;
  clientSecret: string;
  tenantId: string;
  area?: string;
  domain: string;
  origin: string;
}

const isForm = (c: Context) => (c.req.header("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");

/** `POST /auth/token` and `GET /.well-known/cxone-configuration`. */
export function identityRoutes(o: IdentityOptions, state: DfoState, tokens: TokenIssuer): Hono {
  const app = new Hono();
  app.post("/auth/token", async (c) => {
    state.tokenRequests += 1;
    const client = decodeBasic(c.req.header("authorization"));
    if (client?.user !== o.clientId || client.secret !== o.clientSecret) return c.json({ error: "invalid_client" }, 401);
    if (!isForm(c)) return c.json({ error: "invalid_request", errorDescription: "the body must be application/x-www-form-urlencoded" }, 400);
    const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
    const grant = form.get("grant_type");
    if (grant === "password") {
      if (form.get("username") !== o.accessKeyId || form.get("password") !== o.accessKeySecret) return c.json({ error: "invalid_grant" }, 401);
    } else if (grant === "refresh_token") {
      if (!tokens.refreshValid(form.get("refresh_token"))) return c.json({ error: "invalid_grant" }, 401);
    } else {
      return c.json({ error: "unsupported_grant_type" }, 400);
    }
    return c.json(tokens.issue());
  });

  app.get("/.well-known/cxone-configuration", (c) => {
    if (c.req.query("tenantId") !== o.tenantId) return dfoError(c, 404, { field: "tenantId", message: "tenant not found" });
    const { origin, domain } = o;
    return c.json({ private: false, ui_endpoint: origin, auth_endpoint: origin, api_endpoint: origin, area: o.area ?? "na1", domain, uhDomain: domain, tenantId: o.tenantId });
  });
  return app;
}
