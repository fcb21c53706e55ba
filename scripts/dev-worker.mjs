/**
 * `wrangler dev` for heavy local load (the soak): the same dev server — wrangler's own
 * `unstable_startWorker`, wrangler.toml, .dev.vars, local D1 and Durable Objects, scheduled
 * handler at /__scheduled — but without the DevTools inspector. wrangler dev's inspector proxy
 * relays every console line and exception of the Worker to wrangler over a loopback HTTP request
 * of its own; in the default soak's bursts those piled up past the 20,000 open files this machine
 * allows and workerd then failed every request ("Too many open files"). It cannot be switched off
 * from the command line. Takes the flags the stack passes to `wrangler dev`:
 * --port, --ip, --persist-to, --var NAME:value (repeatable); runs until killed.
 */
import { unstable_startWorker } from "wrangler";

const args = process.argv.slice(2);
const bindings = {};
let port = 8787;
let ip = "127.0.0.1";
let persist;
for (let i = 0; i < args.length; i++) {
  const value = args[i + 1];
  if (args[i] === "--port") port = Number(value);
  else if (args[i] === "--ip") ip = value;
  else if (args[i] === "--persist-to") persist = value;
  else if (args[i] === "--var") {
    const at = value.indexOf(":");
    bindings[value.slice(0, at)] = { type: "plain_text", value: value.slice(at + 1) };
  } else continue;
  i++;
}

const worker = await unstable_startWorker({
  config: "wrangler.toml",
  bindings,
  dev: { server: { hostname: ip, port }, inspector: false, persist, testScheduled: true, watch: false, liveReload: false },
});
await worker.ready;
console.log(`Ready on http://${ip}:${port} (no inspector)`);
const stop = () => worker.dispose().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
