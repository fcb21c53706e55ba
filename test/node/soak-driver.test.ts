import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { driver } from "../../soak/drive.mjs";

/**
 * The soak reads the bridge's admin view of messages while it restarts the Worker. A restart can
 * cut an answer after its status line: the soak at the default size died of it ("TypeError:
 * terminated" reading a 404's body), where it must ask again later.
 */
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const id = decodeURIComponent(req.url!.split("/").at(-1)!);
    if (id === "whole") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ queue: { state: "queued" } }));
      return;
    }
    // The status line and part of the body, then the connection is gone.
    res.writeHead(id === "cut-404" ? 404 : 200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"queue":');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the soak's reads of the bridge", () => {
  const d = () => driver({ bridgeUrl: url, twilioUrl: url }, { ADMIN_TOKEN: "t" });

  it.each(["cut-404", "cut-200"])("take an answer cut mid-body (%s) as no answer, not a crash", async (id) => {
    await expect(d().known(id)).resolves.toBe(false);
    await expect(d().queued(id)).resolves.toBe(false);
    await expect(d().message(id)).resolves.toBeUndefined();
  });

  it("still read a whole answer", async () => {
    await expect(d().known("whole")).resolves.toBe(true);
    await expect(d().queued("whole")).resolves.toBe(true);
  });
});
