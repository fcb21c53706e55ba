import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { OutboundItem } from "../../src/adapters/cxone/reply-item";
import { requireConfig } from "../../src/config";
import { pageDeps } from "../../src/deps";
import { acceptPage } from "../../src/domain/outbound/accept";
import { countedD1 } from "../support/d1-count";
import { d1Count } from "../support/inbound";
import { useEmulators } from "../support/emulators";
import { outboundItem, pusher, senderNumber, settle } from "../support/outbound";

describe("the poller's page", () => {
  const emu = useEmulators();

  it("takes a page of 50 replies — new, pushed before, and repeated — in two D1 statements, and sends each once", async () => {
    const from = senderNumber();
    const items = Array.from({ length: 50 }, () => outboundItem({ from }));
    for (const i of items) emu.cxone.state.messageIds.add(i.id);
    // Five of them were pushed before the poll found them.
    const push = pusher(emu);
    for (const i of items.slice(0, 5)) expect((await push(i)).status).toBe(200);

    const d1 = countedD1();
    const config = requireConfig(env);
    const parsed = items.map((i) => OutboundItem.parse(i));
    await acceptPage(pageDeps({ ...env, DB: d1.db }, config), config, [...parsed, parsed[9]!], 8);
    expect(await d1.statements()).toBe(2);

    await settle(from);
    expect(emu.twilio.messages().filter((m) => m.from === from)).toHaveLength(50);
    expect(await d1Count("SELECT COUNT(*) AS n FROM messages WHERE sender = ? AND direction = 'outbound'", from)).toBe(50);
  });
});
