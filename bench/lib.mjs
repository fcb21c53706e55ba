/** Small helpers shared by the benchmark and soak scripts. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function json(url, init) {
  const res = await fetch(url, init).catch((err) => {
    // A read whose connection died under it (the peer closed it as it was reused) is read again.
    if ((init?.method ?? "GET") !== "GET" || err?.cause?.code !== "UND_ERR_SOCKET") throw err;
    return fetch(url, init);
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url} → ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

export const post = (url, body, headers = {}) =>
  json(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

export async function until(what, probe, timeoutMs = 120_000, everyMs = 200) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The bucket's spacing per segment (src/domain/outbound/bucket.ts: 2 ms of guard per second). */
export const spacingMs = (rate) => (1000 + 2) / rate;

/** Most segments in any one-second window, a message's segments counted in the slots up to its arrival. */
export function worstWindow(sends, rate) {
  const points = sends.flatMap((s) => Array.from({ length: Math.max(1, s.segments) }, (_, i) => s.at - i * spacingMs(rate))).sort((a, b) => a - b);
  let worst = 0;
  for (let start = 0, end = 0; end < points.length; end++) {
    while (points[end] - points[start] >= 1000) start++;
    worst = Math.max(worst, end - start + 1);
  }
  return worst;
}

export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}
