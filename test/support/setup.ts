import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { network, unhandled } from "./network";

const testEnv = env as unknown as { DB: D1Database; TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1] };
await applyD1Migrations(testEnv.DB, testEnv.TEST_MIGRATIONS);

beforeAll(() => network.enable());
afterEach(() => {
  network.resetHandlers();
  const seen = unhandled.splice(0);
  expect(seen, "outbound requests that no handler answered").toEqual([]);
});
afterAll(() => network.disable());
