/**
 * Routes per SA (src/esp/routes.ts) over recorded commands: selector ranges become the fewest
 * prefixes; a route stays while any outbound SA uses it (rekey overlap) and goes with the last;
 * a prefix containing the peer's outer address is refused; command failures become warnings.
 */

import assert from "node:assert/strict";
import { parseIp } from "../../../src/net/addr.ts";
import { rangeToPrefixes, type RouteCommands, RouteTable } from "../../../src/esp/routes.ts";
import type { EspSaSpec } from "../../../src/esp/sa_spec.ts";
import { rangeSelector } from "../../fakes/esp_peer.ts";

const p = (a: string, b: string) => rangeToPrefixes(parseIp(a)!, parseIp(b)!);

Deno.test("selector ranges become the fewest CIDR prefixes", () => {
  assert.deepEqual(p("203.0.113.0", "203.0.113.255"), ["203.0.113.0/24"]);
  assert.deepEqual(p("192.0.2.7", "192.0.2.7"), ["192.0.2.7/32"]);
  assert.deepEqual(p("198.51.100.1", "198.51.100.6"), [
    "198.51.100.1/32",
    "198.51.100.2/31",
    "198.51.100.4/31",
    "198.51.100.6/32",
  ]);
  assert.deepEqual(p("0.0.0.0", "255.255.255.255"), ["0.0.0.0/0"]);
  assert.deepEqual(p("2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"), ["2001:db8::/64"]);
  assert.deepEqual(p("203.0.113.9", "203.0.113.8"), []);
  assert.deepEqual(rangeToPrefixes(parseIp("192.0.2.1")!, parseIp("::1")!), []);
});

function recorder(failOn?: string) {
  const log: string[] = [];
  const commands: RouteCommands = {
    add(prefix, dev) {
      log.push(`add ${prefix} ${dev}`);
      return prefix === failOn ? Promise.reject(new Error(`refused ${prefix}`)) : Promise.resolve();
    },
    remove(prefix, dev) {
      log.push(`del ${prefix} ${dev}`);
      return Promise.resolve();
    },
  };
  return { log, commands };
}

function out(spi: number, remote: string[][], peer = "192.0.2.2"): EspSaSpec {
  return {
    spi,
    direction: "out",
    peer: "hq",
    childId: "c",
    transform: { kind: "aead", alg: "aes128gcm16" },
    keyMaterial: new Uint8Array(20),
    endpoints: { local: "192.0.2.1", remote: peer },
    localSelectors: [rangeSelector("198.51.100.0", "198.51.100.255")],
    remoteSelectors: remote.map(([a, b]) => rangeSelector(a!, b!)),
    esn: false,
    replayWindow: 0,
    lifetime: { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 },
  };
}

Deno.test("a route lives while an outbound SA uses it, across a rekey", async () => {
  const { log, commands } = recorder();
  const t = new RouteTable("bg0", commands);
  const net = [["203.0.113.0", "203.0.113.255"]];
  assert.deepEqual(await t.addSa(out(0x100, net)), []);
  assert.deepEqual(await t.addSa(out(0x101, [...net, ["2001:db8::", "2001:db8::ffff"]])), []);
  assert.deepEqual(await t.addSa({ ...out(0x102, net), direction: "in" }), []);
  assert.deepEqual(log, ["add 203.0.113.0/24 bg0", "add 2001:db8::/112 bg0"]);
  await t.removeSa(0x100); // the old SA of a rekey goes: the route stays
  assert.deepEqual(log.length, 2);
  await t.removeSa(0x100);
  await t.removeSa(0x101);
  assert.deepEqual(log.slice(2), ["del 203.0.113.0/24 bg0", "del 2001:db8::/112 bg0"]);
  assert.deepEqual(t.prefixes, []);
});

Deno.test("a prefix containing the peer is not routed; failures are warnings", async () => {
  const { log, commands } = recorder("198.18.0.0/24");
  const t = new RouteTable("bg0", commands);
  const w = await t.addSa(
    out(0x200, [["0.0.0.0", "255.255.255.255"], ["198.18.0.0", "198.18.0.255"]], "192.0.2.2"),
  );
  assert.equal(w.length, 2);
  assert.match(w[0]!, /not routing 0\.0\.0\.0\/0: it contains the peer 192\.0\.2\.2/);
  assert.match(w[1]!, /refused 198\.18\.0\.0\/24/);
  assert.deepEqual(t.prefixes, []);
  assert.deepEqual(log, ["add 198.18.0.0/24 bg0"]);
  await t.addSa(out(0x201, [["203.0.113.0", "203.0.113.255"]]));
  assert.deepEqual(await t.clear(), []);
  assert.deepEqual(log.slice(1), ["add 203.0.113.0/24 bg0", "del 203.0.113.0/24 bg0"]);
});
