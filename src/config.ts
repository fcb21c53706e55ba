import { z } from "zod";
import { isBusinessNumber, isMessagingService, isSenderKey, isWhatsApp } from "./domain/compliance/e164";
import { AppError } from "./errors";

// Settings arrive as strings (vars and secrets alike); "" counts as unset so that an empty
// secret is reported as missing rather than silently used.
const text = z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), z.string().trim().optional());
const url = text.refine((v) => v === undefined || URL.canParse(v), "must be an absolute URL");
/** A numeric setting with a default; zero only where it means "off". */
const numeric = (fallback: number, { zeroAllowed = false } = {}) =>
  text.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroAllowed)) {
      ctx.addIssue({ code: "custom", message: zeroAllowed ? "must be a number ≥ 0" : "must be a positive number" });
      return z.NEVER;
    }
    return n;
  });
const positive = (fallback: number) => numeric(fallback);
const nonNegative = (fallback: number) => numeric(fallback, { zeroAllowed: true });

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const RawConfig = z.object({
  PUBLIC_BASE_URL: url,
  TWILIO_ACCOUNT_SID: text.refine((v) => v === undefined || /^AC[0-9a-fA-F]{32}$/.test(v), "must look like AC + 32 hex digits"),
  TWILIO_AUTH_TOKEN: text,
  TWILIO_AUTH_TOKEN_SECONDARY: text,
  TWILIO_API_KEY_SID: text,
  TWILIO_API_KEY_SECRET: text,
  TWILIO_MESSAGING_SERVICE_SID: text.refine((v) => v === undefined || isMessagingService(v), "must look like MG + 32 hex digits"),
  TWILIO_FROM_NUMBER: text.refine((v) => v === undefined || (isBusinessNumber(v) && !isWhatsApp(v)), "must be an E.164 number or a short code"),
  TWILIO_API_BASE: url,
  CXONE_API_MODE: text.pipe(z.enum(["open-messaging", "dfo"], { error: "must be open-messaging or dfo" }).default("open-messaging")),
  CXONE_API_BASE: url,
  CXONE_TOKEN_URL: url,
  CXONE_CLIENT_ID: text,
  CXONE_CLIENT_SECRET: text,
  CXONE_SCOPE: text,
  CXONE_WEBHOOK_SECRET: text,
  // DFO mode (contract §8).
  CXONE_ACCESS_KEY_ID: text,
  CXONE_ACCESS_KEY_SECRET: text,
  CXONE_DFO_CHANNELS: text,
  CXONE_BYOC_CLIENT_ID: text,
  CXONE_BYOC_CLIENT_SECRET: text,
  ADMIN_TOKEN: text,
  API_TOKEN: text,
  QUIET_HOURS: text.refine((v) => v === undefined || /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(v), "must look like 21:00-08:00"),
  QUIET_HOURS_DEFAULT_TZ: text.refine((v) => v === undefined || isTimeZone(v), "must be an IANA time zone such as America/New_York"),
  PROACTIVE_IDLE_CLOSE_HOURS: positive(24),
  RETENTION_DAYS: positive(30),
  SENDER_MPS: positive(1),
  SENDER_MPS_OVERRIDES: text,
  // contract §10: a Messaging Service's queue is split over this many sender objects.
  MESSAGING_SERVICE_SHARDS: positive(4).refine((n) => Number.isInteger(n) && n <= 64, "must be a whole number from 1 to 64"),
  // contract §9: WhatsApp's default sender, its templates (name[:language] → Content SID) and rate.
  WHATSAPP_FROM_NUMBER: text.refine((v) => v === undefined || isWhatsApp(v), "must look like whatsapp:+14155550100"),
  WHATSAPP_TEMPLATES: text,
  WHATSAPP_MPS: positive(20),
  // Tuning knobs with production defaults; tests and the soak shrink them.
  UPSTREAM_TIMEOUT_MS: positive(10_000),
  RETRY_MAX_ATTEMPTS: positive(20),
  RETRY_BASE_MS: positive(1_000),
  RETRY_CAP_MS: positive(300_000),
  RECONCILE_AFTER_MINUTES: positive(10),
  // contract §4: at least 60 s in production (a send Twilio commits late must be found, not repeated).
  LOST_ANSWER_GRACE_MS: positive(60_000),
  OUTBOUND_ORDER_WINDOW_MS: nonNegative(250),
  SENDER_INLINE_WAIT_MS: nonNegative(2_000),
  POLL_BUDGET_MS: positive(20_000),
});

/** CXONE_DFO_CHANNELS: business sender (E.164, short code, MG…) or "*" → DFO channel id. */
const DfoChannels = z.record(
  z.string().refine((k) => k === "*" || isSenderKey(k), "keys must be E.164 numbers, short codes, whatsapp:+… senders, MG SIDs or *"),
  z.string().min(1).max(200),
);

const Overrides = z.record(
  z.string().refine(isSenderKey, "keys must be E.164 numbers, short codes, whatsapp:+… senders or MG SIDs"),
  z.number().positive(),
);

/** WHATSAPP_TEMPLATES: "name" or "name:language" → a Twilio Content SID. */
const Templates = z.record(
  z.string().regex(/^[a-z0-9_]{1,512}(:[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?)?$/, "keys must be template names, optionally :language (flight_update, flight_update:es)"),
  z.string().regex(/^HX[0-9a-fA-F]{32}$/, "values must be Content SIDs (HX…)"),
);

export type Config = ReturnType<typeof finish>;

/**
 * Settings each area cannot work without; /healthz reports those of the areas in use. "core" and
 * the CXone dialect's own area (CXONE_API_MODE) are always in use.
 */
export const REQUIRED = {
  core: ["PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"],
  "open-messaging": ["CXONE_API_BASE", "CXONE_TOKEN_URL", "CXONE_CLIENT_ID", "CXONE_CLIENT_SECRET"],
  dfo: ["CXONE_TOKEN_URL", "CXONE_ACCESS_KEY_ID", "CXONE_ACCESS_KEY_SECRET", "CXONE_CLIENT_ID", "CXONE_CLIENT_SECRET", "CXONE_DFO_CHANNELS", "CXONE_BYOC_CLIENT_ID", "CXONE_BYOC_CLIENT_SECRET"],
  cxonePush: ["CXONE_WEBHOOK_SECRET"],
  admin: ["ADMIN_TOKEN"],
  proactive: ["API_TOKEN"],
} as const satisfies Record<string, readonly (keyof z.infer<typeof RawConfig>)[]>;
export type Area = keyof typeof REQUIRED;
export type Mode = "open-messaging" | "dfo";
/** A configuration whose required settings for the named areas are known to be present. */
export type Ready<A extends Area = "core"> = Config & { [K in (typeof REQUIRED)[A | "core"][number]]-?: string };

/** The areas a deployment uses, its dialect's included (cxonePush only for open-messaging). */
export function areasInUse(config: Config): Area[] {
  return config.CXONE_API_MODE === "dfo" ? ["core", "dfo", "admin", "proactive"] : ["core", "open-messaging", "cxonePush", "admin", "proactive"];
}

/** A JSON setting parsed with its schema; a problem naming the setting when it does not fit. */
function jsonSetting<T>(name: string, value: string | undefined, schema: z.ZodType<T>, shape: string, problems: string[]): T | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const result = schema.safeParse(parsed);
  if (result.success) return result.data;
  problems.push(`${name}: must be a JSON object of ${shape}`);
  return undefined;
}

function finish(raw: z.infer<typeof RawConfig>) {
  const problems: string[] = [];
  const overrides = jsonSetting("SENDER_MPS_OVERRIDES", raw.SENDER_MPS_OVERRIDES, Overrides, "sender → segments per second", problems) ?? {};
  const dfoChannels = jsonSetting("CXONE_DFO_CHANNELS", raw.CXONE_DFO_CHANNELS, DfoChannels, "business sender (or *) → DFO channel id", problems) ?? {};
  const whatsappTemplates = jsonSetting("WHATSAPP_TEMPLATES", raw.WHATSAPP_TEMPLATES, Templates, "template name[:language] → Content SID (HX…)", problems) ?? {};
  const apiBase = (raw.TWILIO_API_BASE ?? "https://api.twilio.com").replace(/\/+$/, "");
  return {
    ...raw,
    PUBLIC_BASE_URL: raw.PUBLIC_BASE_URL?.replace(/\/+$/, ""),
    CXONE_API_BASE: raw.CXONE_API_BASE?.replace(/\/+$/, ""),
    // contract §8: a DFO deployment gets its tokens from CXone's global endpoint unless told otherwise.
    CXONE_TOKEN_URL: raw.CXONE_TOKEN_URL ?? (raw.CXONE_API_MODE === "dfo" ? "https://cxone.niceincontact.com/auth/token" : undefined),
    dfoChannels,
    TWILIO_API_BASE: apiBase,
    QUIET_HOURS: raw.QUIET_HOURS ?? "21:00-08:00",
    senderOverrides: overrides,
    whatsappTemplates,
    problems,
  };
}

const cache = new WeakMap<object, { config: Config; problems: string[] }>();

/** Parses the environment once per env object; problems name the setting at fault. */
export function readConfig(env: object): { config: Config; problems: string[] } {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = RawConfig.safeParse(env);
  const problems: string[] = [];
  let config: Config;
  if (parsed.success) {
    config = finish(parsed.data);
    problems.push(...config.problems);
  } else {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
    // Fall back to the settings that did parse so unrelated areas keep working.
    const partial: Record<string, unknown> = {};
    const bad = new Set(parsed.error.issues.map((i) => String(i.path[0])));
    for (const [k, v] of Object.entries(env)) if (!bad.has(k)) partial[k] = v;
    config = finish(RawConfig.parse(partial));
    problems.push(...config.problems);
  }
  const result = { config, problems };
  cache.set(env, result);
  return result;
}

export function missingFor(config: Config, area: Area): string[] {
  return REQUIRED[area].filter((k) => config[k] === undefined);
}

/**
 * The configuration with every setting of the given areas present — "core" and the dialect's own
 * area always — or a 503 naming the missing ones: a half-configured bridge must say what is
 * missing, not fail later on undefined.
 */
export function requireConfig<A extends Area = "core">(env: object, ...areas: A[]): Ready<A> {
  const { config, problems } = readConfig(env);
  const needed: Area[] = ["core", config.CXONE_API_MODE, ...areas];
  const missing = needed.flatMap((a) => missingFor(config, a));
  const invalid = problems.filter((p) => p.startsWith("CXONE_API_MODE:") || needed.some((a) => REQUIRED[a].some((k) => p.startsWith(`${k}:`))));
  if (missing.length > 0 || invalid.length > 0) {
    throw new AppError(503, "misconfigured", `the bridge is not configured: ${[...missing.map((m) => `${m} is missing`), ...invalid].join("; ")}`);
  }
  return config as Ready<A>;
}

/**
 * A sender's rate: segments per second for a number or Messaging Service, messages per second for
 * a WhatsApp sender (contract §9: WhatsApp is not segmented).
 */
export function senderRate(config: Config, sender: string): number {
  return config.senderOverrides[sender] ?? (isWhatsApp(sender) ? config.WHATSAPP_MPS : config.SENDER_MPS);
}
