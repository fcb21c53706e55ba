/**
 * `wrangler dev` for heavy local load (the soak): the same dev server — wrangler's own
 * `unstable_startWorker`, wrangler.toml, .dev.vars, local D1 and Durable Objects, scheduled
 * handler at /__scheduled — but without the DevTools inspector. wrangler dev's inspector proxy
 * relays every console line and exception of the Worker to wrangler over a loopback HTTP request
 * of its own; in the default soak's bursts those piled up past the 20,000 open files this machine
 * allows and workerd then failed every request ("Too many open files"). It cannot be switched off
 * from the command line. Takes the flags the stack passes to `wrangler dev`:
 * --port, --ip, --persist-to, --var NAME:value (repeatable), --main (another entry), --config
 * (another wrangler.toml); runs until killed.
 */
import { parseArgs } from "node:util";
import { unstable_startWorker } from "wrangler";

const { values } = parseArgs({
  options: { config: { type: "string", default: "wrangler.toml" }, port: { type: "string", default: "8787" }, ip: { type: "string", default: "127.0.0.1" }, "persist-to": { type: "string" }, main: { type: "string" }, var: { type: "string", multiple: true, default: [] } },
});
const port = Number(values.port);
const ip = values.ip;
const persist = values["persist-to"];
const bindings = Object.fromEntries(
  values.var.map((v) => {
    const at = v.indexOf(":");
    return [v.slice(0, at), { type: "plain_text", value: v.slice(at + 1) }];
  }),
);

const worker = await unstable_startWorker({
  config: values.config,
  ...(values.main ? { entrypoint: values.main } : {}),
  bindings,
  dev: { server: { hostname: ip, port }, inspector: false, persist, testScheduled: true, watch: false, liveReload: false },
});
await worker.ready;
console.log(`Ready on http://${ip}:${port} (no inspector)`);
const stop = () => worker.dispose().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
