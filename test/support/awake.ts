/**
 * Numbers whose owners are awake right now (real time, 09:00–19:00 local), for tests that need
 * real time to pass at full speed: some zone on this list always is.
 */
export function awakeNumbers(): (i: number) => string {
  const places: [string, string][] = [
    ["+1646555", "America/New_York"], ["+1213555", "America/Los_Angeles"], ["+1808555", "Pacific/Honolulu"],
    ["+81901", "Asia/Tokyo"], ["+91987", "Asia/Kolkata"], ["+447700", "Europe/London"],
  ];
  const hourIn = (timeZone: string) => Number(new Intl.DateTimeFormat("en-US", { timeZone, hour: "2-digit", hourCycle: "h23" }).format(new Date()));
  const [prefix] = places.find(([, zone]) => hourIn(zone) >= 9 && hourIn(zone) < 19)!;
  return (i) => `${prefix}${String(i).padStart(4, "0")}`;
}
