import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app";
import { TEST_BINDINGS as B } from "../support/bindings";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; requestBody?: { content: Record<string, { schema: JsonSchema }> }; responses: Record<string, unknown> }>>;
};
type JsonSchema = { oneOf?: JsonSchema[]; required?: string[]; properties?: Record<string, JsonSchema>; additionalProperties?: boolean; description?: string };

const get = (path: string) => exports.default.fetch(new Request(`${B.PUBLIC_BASE_URL}${path}`));
const doc = async () => (await (await get("/openapi.json")).json()) as Doc;

describe("GET /openapi.json", () => {
  it("describes every /v1 and /admin route the app serves, with its method and bearer scheme, and nothing it does not serve", async () => {
    const served = createApp()
      .routes.filter((r) => /^\/(v1|admin)\/[^*]/.test(r.path) && r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const d = await doc();
    expect(d.openapi).toBe("3.1.0");
    const described = Object.entries(d.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(described.sort()).toEqual([...new Set(served)].sort());
    for (const [path, ops] of Object.entries(d.paths)) {
      for (const op of Object.values(ops)) expect(op.security).toEqual([{ [path.startsWith("/v1") ? "apiToken" : "adminToken"]: [] }]);
    }
  });

  it("names as required exactly the fields /v1/proactive refuses without, and allows no others", async () => {
    const body = (await doc()).paths["/v1/proactive"]!.post!.requestBody!.content["application/json"]!.schema;
    const [single] = body.oneOf!;
    expect(single!.additionalProperties).toBe(false);
    expect(single!.properties!.text!.description).toContain("template");
    const valid: Record<string, string> = { to: "+14155550100", text: "hi", campaignId: "c", idempotencyKey: `k-${crypto.randomUUID()}`, from: "+15550001000" };
    for (const field of Object.keys(single!.properties!)) {
      const without = Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field));
      const res = await exports.default.fetch(
        new Request(`${B.PUBLIC_BASE_URL}/v1/proactive`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${B.API_TOKEN}` },
          body: JSON.stringify({ ...without, unknownField: 1 }),
        }),
      );
      // The unknown field makes every request a 400 (nothing launched): what matters is which fields it names.
      expect(res.status).toBe(400);
      const { message } = (await res.json()) as { message: string };
      // `text` is required unless a WhatsApp template is given (its description says so).
      if (single!.required!.includes(field) || field === "text") expect(message).toContain(field);
      else expect(message).not.toContain(`${field}:`);
    }
  });

  it("is served without a token and answers the same document twice", async () => {
    const [a, b] = await Promise.all([get("/openapi.json"), get("/openapi.json")]);
    expect(a.status).toBe(200);
    expect(await a.text()).toBe(await b.text());
  });
});
