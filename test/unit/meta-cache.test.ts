import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Meta } from "../../src/do/storage";

/** An object's `meta` is read through a cache (src/do/storage.ts); storage stays the truth. */
describe("an object's meta", () => {
  it("reads what was written, and after a rolled-back transaction what storage kept", async () => {
    await runInDurableObject(env.BATCH.getByName(`meta-${crypto.randomUUID()}`), (instance, state) => {
      const o = instance as unknown as { meta: Meta; transaction: <T>(work: () => T) => T };
      o.meta.set("a", "1");
      expect(o.meta.get("a")).toBe("1");
      expect(o.meta.get("b")).toBeNull();
      expect(() =>
        o.transaction(() => {
          o.meta.set("a", "2");
          o.meta.set("b", "x");
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      expect(o.meta.get("a")).toBe("1");
      expect(o.meta.get("b")).toBeNull();
      o.meta.delete("a");
      expect(o.meta.get("a")).toBeNull();
      o.meta.set("c", "3");
      o.meta.clear();
      expect(o.meta.get("c")).toBeNull();
      expect(state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM meta").one().n).toBe(0);
    });
  });
});
