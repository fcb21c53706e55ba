import { twilioError, type TwilioError } from "./errors";
import { resource, type EmulatedMessage } from "./messages";
import { parseTwilioDate, type MessageResource, type Property, type TwilioDate } from "./openapi";
import type { twilioOpenApi } from "./openapi-subset";

const DAY_MS = 86_400_000;
const DEFAULT_PAGE_SIZE = 50;
const PAGING = ["PageSize", "Page", "PageToken"];

type PageSpec = typeof twilioOpenApi.messagePage;
/** A list page as the description defines it (ListMessageResponse). */
export type MessagePage = { -readonly [K in keyof PageSpec]: K extends "messages" ? MessageResource[] : Property<PageSpec[K]> };

const startOfDay = (ms: number) => ms - (ms % DAY_MS);

/**
 * DateSent filters. A bare day compares whole UTC days: `DateSent=` that day, `DateSent<` (sent
 * as `DateSent<=`) on or before it, `DateSent>` (sent as `DateSent>=`) on or after it. A time
 * (what the SDKs send for dateSentBefore/After) is compared as an instant; `DateSent=` always
 * means the day.
 */
function sentMatches(sent: number, on?: TwilioDate, before?: TwilioDate, after?: TwilioDate): boolean {
  if (on && startOfDay(sent) !== startOfDay(on.ms)) return false;
  if (before && sent > (before.dateOnly ? before.ms + DAY_MS - 1 : before.ms)) return false;
  if (after && sent < after.ms) return false;
  return true;
}

/**
 * One page of GET Messages.json (query already validated): filtered, newest first. Pages follow
 * Twilio's scheme: `next_page_uri` carries `PageToken=PA<last SID>`, so a page starts right after
 * the previous one even when newer messages arrived meanwhile.
 */
export function listPage(all: readonly EmulatedMessage[], query: URLSearchParams, path: string): MessagePage | TwilioError {
  const date = (name: string) => (query.get(name) ? parseTwilioDate(query.get(name)!) : undefined);
  const [on, before, after] = [date("DateSent"), date("DateSent<"), date("DateSent>")];
  const to = query.get("To");
  const from = query.get("From");
  const found = all
    .filter((m) => (!to || m.to === to) && (!from || m.from === from))
    .filter((m) => (on || before || after ? m.date_sent !== null && sentMatches(Date.parse(m.date_sent), on, before, after) : true))
    .reverse();

  const pageSize = Number(query.get("PageSize") || DEFAULT_PAGE_SIZE);
  const page = Number(query.get("Page") || 0);
  const token = query.get("PageToken");
  let first = page * pageSize;
  if (token) {
    const after = found.findIndex((m) => `PA${m.sid}` === token);
    if (after < 0) return twilioError(400, 21481, `Invalid PageToken: ${token}`);
    first = after + 1;
  }
  const messages = found.slice(first, first + pageSize);

  const filters = [...query].filter(([k]) => !PAGING.includes(k));
  const uri = (p: number, pageToken?: string | null) =>
    `${path}?${new URLSearchParams([...filters, ["PageSize", String(pageSize)], ["Page", String(p)], ...(pageToken ? [["PageToken", pageToken]] : [])])}`;
  const start = page * pageSize;
  return {
    end: start + Math.max(0, messages.length - 1),
    first_page_uri: uri(0),
    next_page_uri: first + pageSize < found.length ? uri(page + 1, `PA${messages.at(-1)!.sid}`) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 ? uri(page - 1) : null,
    start,
    uri: uri(page, token),
    messages: messages.map(resource),
  };
}
