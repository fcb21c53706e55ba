/**
 * The DFO phase of `npm run bench` (issue 11): a stack in CXONE_API_MODE=dfo against the DFO
 * emulator, measured with the same load as open-messaging — signed inbound webhooks — and CXone's
 * reply callbacks (`POST /cxone/dfo/2.0/channel/:channelId/outbound` with a bearer token from the
 * bridge's own token endpoint, each reply with its own CXone id). The report puts both modes side
 * by side.
 */
import { randomBytes } from "node:crypto";
import { startStack } from "../scripts/stack.mjs";
import { json, until } from "./lib.mjs";
import { cannon, inboundRequests } from "./load.mjs";

const runId = randomBytes(4).toString("hex");
export const DFO_CHANNEL = "chat_bench";
export const DFO_VARS = {
  CXONE_API_MODE: "dfo",
  CXONE_ACCESS_KEY_ID: "bench-access-key-id",
  CXONE_ACCESS_KEY_SECRET: "bench-access-key-secret",
  CXONE_BYOC_CLIENT_ID: "bench-byoc-client",
  CXONE_BYOC_CLIENT_SECRET: "bench-byoc-secret",
};

/** CXone's reply callbacks, `threads` customers, each reply with its own CXone id. */
function replyRequests({ token, threads }) {
  let n = 0;
  return [
    {
      method: "POST",
      path: `/cxone/dfo/2.0/channel/${DFO_CHANNEL}/outbound`,
      setupRequest(req) {
        const i = n++;
        const thread = `+1627${String(i % threads).padStart(7, "0")}`;
        return {
          ...req,
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({
            id: `bench-reply-${runId}-${i}`,
            brand: { id: 1 },
            thread: { idOnExternalPlatform: thread },
            messageContent: { type: "TEXT", payload: { text: `bench reply ${i}` } },
            endUserRecipients: [{ idOnExternalPlatform: thread }],
          }),
        };
      },
    },
  ];
}

/** Runs the DFO stack on `ports`, measures, stops it; `{ inbound, replies }` rows as cannon() gives them. */
export async function benchDfo({ ports, creds, cfg, dir, local, step, sender }) {
  const stack = await startStack({
    port: ports.bridge,
    twilioPort: ports.twilio,
    cxonePort: ports.cxone,
    persistTo: dir,
    quiet: true,
    tickSeconds: 0,
    // Without the DevTools inspector, as stack A (bench.mjs: its relay of console lines is the dev tool's cost).
    inspector: false,
    // As in the open-messaging push phase: the replies go to one sender at 1 segment/s, so what is
    // measured is taking a reply (auth, parse, queue), not sending it while the load runs.
    vars: { ...creds, ...DFO_VARS, CXONE_DFO_CHANNELS: JSON.stringify({ [sender]: DFO_CHANNEL, "*": DFO_CHANNEL }), SENDER_MPS_OVERRIDES: JSON.stringify({ [sender]: 1 }) },
  });
  try {
    const threadsIn = async () => (await json(`${stack.cxoneUrl}/_emu/threads`)).reduce((s, t) => s + t.messages.filter((m) => m.direction === "inbound").length, 0);
    const inbound = () => inboundRequests({ publicUrl: stack.bridgeUrl, authToken: creds.TWILIO_AUTH_TOKEN, accountSid: creds.TWILIO_ACCOUNT_SID, to: creds.TWILIO_FROM_NUMBER, customers: cfg.customers, pool: "6" });
    step(`5a. DFO inbound webhooks: ${cfg.duration} s, ${cfg.connections} connections`);
    const warm = await cannon({ url: local(stack.bridgeUrl), requests: inbound(), amount: cfg.customers, connections: cfg.connections, title: "dfo inbound warm-up" });
    const row = await cannon({ url: local(stack.bridgeUrl), requests: inbound(), duration: cfg.duration, connections: cfg.connections, title: "dfo inbound" });
    const t0 = Date.now();
    await until("the DFO texts to reach CXone", async () => (await threadsIn()) >= warm.ok + row.ok, 180_000, 250);
    row.drainS = (Date.now() - t0) / 1000;

    step(`5b. DFO reply callbacks: ${cfg.duration} s, ${cfg.connections} connections`);
    const res = await fetch(`${stack.bridgeUrl}/cxone/dfo/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "client_credentials", client_id: DFO_VARS.CXONE_BYOC_CLIENT_ID, client_secret: DFO_VARS.CXONE_BYOC_CLIENT_SECRET }),
    });
    const { access_token: token } = await res.json();
    await cannon({ url: local(stack.bridgeUrl), requests: replyRequests({ token, threads: 50 }), duration: cfg.warmup, connections: cfg.connections, title: "dfo replies warm-up" });
    const replies = await cannon({ url: local(stack.bridgeUrl), requests: replyRequests({ token, threads: 50 }), duration: cfg.duration, connections: cfg.connections, title: "dfo replies" });
    return { inbound: row, replies };
  } finally {
    await stack.stop();
  }
}
