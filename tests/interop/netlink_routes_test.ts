/**
 * Root: routes per SA through rtnetlink (hw/netlink.ts via src/esp/routes.ts) in a namespace
 * this test creates: IPv4 and IPv6 device routes appear as `ip route` shows them (replace is
 * idempotent), go away on delete, and the kernel's refusals (no such route, no such device)
 * come back as errors naming the route. TEST-NET and documentation prefixes only.
 */

import assert from "node:assert/strict";
import { withLab } from "./lib/netns.ts";

const fixture = new URL("./fixtures/netlink_routes.ts", import.meta.url).pathname;

Deno.test("netlink routes: add, replace, delete, and the kernel's errors", async () => {
  await withLab(async (lab) => {
    const ns = await lab.addNamespace("nl");
    const peer = await lab.addNamespace("nlp");
    await lab.veth({ ns, ifname: "d0", cidr: "192.0.2.1/24" }, { ns: peer, ifname: "d1" });
    const steps = (...s: string[]) =>
      lab.mustExec(ns, [Deno.execPath(), "run", "--allow-all", fixture, ...s])
        .then((out) => out.trimEnd().split("\n"));
    const routes = async () =>
      (await lab.mustExec(ns, ["ip", "route", "show", "dev", "d0"])) +
      (await lab.mustExec(ns, ["ip", "-6", "route", "show", "dev", "d0"]));

    assert.deepEqual(
      await steps("add,203.0.113.0/24,d0", "add,2001:db8:5::/48,d0", "add,203.0.113.0/24,d0"),
      ["ok", "ok", "ok"],
    );
    const added = await routes();
    assert.match(added, /^203\.0\.113\.0\/24 scope link $/m);
    assert.match(added, /^2001:db8:5::\/48 metric 1024 /m);

    const out = await steps(
      "del,203.0.113.0/24,d0",
      "del,2001:db8:5::/48,d0",
      "del,203.0.113.0/24,d0",
      "add,198.51.100.0/24,nosuchdev",
    );
    assert.deepEqual(out.slice(0, 2), ["ok", "ok"]);
    assert.match(out[2]!, /^error route remove 203\.0\.113\.0\/24 dev d0: .*No such process/);
    assert.match(
      out[3]!,
      /^error route replace 198\.51\.100\.0\/24 dev nosuchdev: .*No such device/,
    );
    const left = await routes();
    assert.doesNotMatch(left, /203\.0\.113|2001:db8:5/);
  });
});
