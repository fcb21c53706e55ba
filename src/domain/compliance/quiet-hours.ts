/**
 * Quiet hours for proactive messages (contract §3): no campaign text inside the window, recipient
 * local time; a send that falls inside is deferred to the window's end, never dropped.
 */

export interface QuietWindow {
  /** Minutes after local midnight. A window with start > end crosses midnight (21:00-08:00). */
  start: number;
  end: number;
}

export function parseQuietHours(spec: string): QuietWindow {
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(spec);
  if (!match) throw new Error(`quiet hours must look like 21:00-08:00, not ${spec}`);
  const [, h1, m1, h2, m2] = match.map(Number) as [number, number, number, number, number];
  return { start: h1 * 60 + m1, end: h2 * 60 + m2 };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Minutes after local midnight (and the second within the minute) at `at` in `timeZone`. */
function localClock(at: Date, timeZone: string): { minutes: number; seconds: number } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return { minutes: Number(parts.hour) * 60 + Number(parts.minute), seconds: Number(parts.second) };
}

export function isQuiet(window: QuietWindow, minutes: number): boolean {
  if (window.start === window.end) return false;
  return window.start < window.end ? minutes >= window.start && minutes < window.end : minutes >= window.start || minutes < window.end;
}

/**
 * When a message meant for `at` may go: `at` itself outside the window, else the first moment
 * the window is over in the recipient's zone (daylight-saving changes included).
 */
export function nextAllowed(at: Date, timeZone: string, window: QuietWindow): Date {
  const { minutes, seconds } = localClock(at, timeZone);
  if (!isQuiet(window, minutes)) return at;
  const wait = (window.end - minutes + 1440) % 1440;
  let candidate = new Date(at.getTime() + wait * 60_000 - seconds * 1000 - at.getUTCMilliseconds());
  // A daylight-saving change inside the wait moves the wall clock by an hour: correct once.
  const drift = localClock(candidate, timeZone).minutes - window.end;
  if (drift !== 0) candidate = new Date(candidate.getTime() - (((drift + 720 + 1440) % 1440) - 720) * 60_000);
  return candidate;
}
