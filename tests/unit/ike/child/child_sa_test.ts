import assert from "node:assert/strict";
import { ChildSaTable, type NewChild } from "../../../../src/ike/child/child_sa.ts";
import type { EspSaSpec, TrafficSelector } from "../../../../src/esp/sa_spec.ts";

const ts = (a: string, b: string): TrafficSelector => ({
  startAddress: a,
  endAddress: b,
  protocol: 0,
  startPort: 0,
  endPort: 65535,
});
const LOCAL = [ts("10.1.0.0", "10.1.255.255")];
const REMOTE = [ts("10.2.0.0", "10.2.255.255")];
const OTHER = [ts("10.3.0.0", "10.3.0.255")];

function spec(spi: number, direction: "in" | "out", remote = REMOTE): Omit<EspSaSpec, "childId"> {
  return {
    spi,
    direction,
    peer: "branch1",
    transform: { kind: "aead", alg: "aes128gcm16" },
    keyMaterial: new Uint8Array(20),
    endpoints: {
      local: "192.0.2.1",
      remote: "192.0.2.2",
      encap: { localPort: 4500, remotePort: 4500 },
    },
    localSelectors: LOCAL,
    remoteSelectors: remote,
    esn: false,
    replayWindow: direction === "in" ? 1024 : 0,
    lifetime: { softSeconds: 0, hardSeconds: 3600, softBytes: 0, hardBytes: 0 },
  };
}

const child = (inSpi: number, outSpi: number, at: number, remote = REMOTE): NewChild => ({
  peer: "branch1",
  ikeSa: "ike1",
  inbound: spec(inSpi, "in", remote),
  outbound: spec(outSpi, "out", remote),
  transformName: "aes128gcm16",
  pfsGroup: 0,
  installedAt: at,
});

Deno.test("install: inbound first, then outbound; ids in both specs", () => {
  const t = new ChildSaTable();
  const { child: c, actions } = t.install(child(0x1000, 0x2000, 0));
  assert.deepEqual(actions.map((a) => [a.kind, a.kind === "installSa" ? a.spec.direction : ""]), [
    ["installSa", "in"],
    ["installSa", "out"],
  ]);
  assert.equal(c.inbound.childId, c.childId);
  assert.equal(c.outbound.childId, c.childId);
  // A second subnet is a second child; nothing removed.
  const second = t.install(child(0x1001, 0x2001, 0, OTHER));
  assert.equal(second.actions.length, 2);
  assert.equal(t.size, 2);
});

Deno.test("rekey is make-before-break: the old pair stays until the peer deletes it", () => {
  const t = new ChildSaTable();
  const old = t.install(child(0x1000, 0x2000, 0)).child;
  const { actions } = t.install(child(0x1100, 0x2100, 5000));
  assert.deepEqual(
    actions.map((a) => `${a.kind}:${a.kind === "installSa" ? a.spec.spi : a.spi}`),
    ["installSa:4352", "installSa:8448"],
  );
  assert.equal(old.state, "rekeyed");
  assert.ok(old.hasInbound && old.hasOutbound);
  const views = t.views(65_000);
  assert.deepEqual(views.map((v) => [v.inboundSpi, v.state, v.ageSeconds]), [
    [0x1000, "rekeyed", 65],
    [0x1100, "installed", 60],
  ]);
  assert.equal(views[0]!.localTs, "10.1.0.0/16");
  assert.equal(views[0]!.encap, true);
  // The peer's Delete of the old SA (named by its inbound SPI = our old outbound) removes
  // both of its directions.
  const victim = t.findBySpi("branch1", 0x2000);
  assert.equal(victim?.childId, old.childId);
  assert.deepEqual(t.remove(old.childId), [
    { kind: "deleteSa", spi: 0x1000, direction: "in", peer: "branch1" },
    { kind: "deleteSa", spi: 0x2000, direction: "out", peer: "branch1" },
  ]);
  assert.equal(t.size, 1);
});

Deno.test("parallel children with the same selectors: deleting the newer leaves the older current", () => {
  const t = new ChildSaTable();
  const first = t.install(child(0x1000, 0x2000, 0)).child;
  const second = t.install(child(0x1100, 0x2100, 1000)).child;
  assert.equal(first.state, "rekeyed");
  assert.equal(t.remove(second.childId).length, 2);
  assert.equal(first.state, "installed");
  assert.ok(first.hasInbound && first.hasOutbound);
});

Deno.test("Delete by either SPI, unknown SPI, SPIs released", () => {
  const released: number[] = [];
  const t = new ChildSaTable((spi) => released.push(spi));
  const c = t.install(child(0x1000, 0x2000, 0)).child;
  assert.equal(t.findBySpi("branch1", 0x1000)?.childId, c.childId);
  assert.equal(t.findBySpi("branch1", 0x3000), undefined);
  assert.equal(t.findBySpi("other", 0x2000), undefined);
  assert.equal(t.remove(c.childId).length, 2);
  assert.deepEqual(released, [0x1000]);
  assert.deepEqual(t.remove(c.childId), []);
});

Deno.test("hard expiry of one direction removes the other", () => {
  const t = new ChildSaTable();
  const c = t.install(child(0x1000, 0x2000, 0)).child;
  assert.deepEqual(t.expired(c.childId, 0x9999, "in").actions, []);
  const r = t.expired(c.childId, 0x1000, "in");
  assert.equal(r.child?.childId, c.childId);
  assert.deepEqual(r.actions, [{
    kind: "deleteSa",
    spi: 0x2000,
    direction: "out",
    peer: "branch1",
  }]);
  // The second direction's event finds nothing left.
  assert.deepEqual(t.expired(c.childId, 0x2000, "out"), { actions: [] });
  assert.equal(t.size, 0);
});
