/** Plain HTTP helpers of the Node-side tests. */
export async function json<T = unknown>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init).catch((err: Error) => {
    throw new Error(`${init?.method ?? "GET"} ${url}: ${err.message} (${String((err.cause as Error | undefined)?.message)})`);
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? "GET"} ${url} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
