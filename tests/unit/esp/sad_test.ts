/**
 * Two SA databases (branch gateway and head office) exchange packets in-process: selectors,
 * inbound policy check, make-before-break rekey, lifetimes, and install errors.
 */

import assert from "node:assert/strict";
import { getCrypto } from "../../../src/crypto/registry.ts";
import { MAX_ESP_HEADER, MAX_MISSED, SaDatabase } from "../../../src/esp/sad.ts";
import { BRANCH, HQ, NO_LIMITS, packet, spec, subnet } from "./sad_fixtures.ts";

function pairOfGateways() {
  const branch = new SaDatabase(getCrypto());
  const hq = new SaDatabase(getCrypto());
  branch.install(spec(0x1001, "out"), 0);
  hq.install(spec(0x1001, "in", { localSelectors: [HQ], remoteSelectors: [BRANCH] }), 0);
  return { branch, hq };
}

function send(from: SaDatabase, to: SaDatabase, src: string, dst: string) {
  const { buf, len } = packet(src, dst);
  const r = from.encapsulate(buf, MAX_ESP_HEADER, len);
  if (r === undefined) return { out: undefined, got: undefined };
  const out = { ...r };
  const got = to.decapsulate(buf, out.offset, out.length);
  return { out, got, buf, len };
}

Deno.test("a packet between the subnets crosses, with counters on both sides", () => {
  const { branch, hq } = pairOfGateways();
  const r = send(branch, hq, "198.51.100.5", "203.0.113.7");
  assert.ok(r.out && r.got);
  assert.equal(r.out.spec.endpoints.remote, "192.0.2.2");
  assert.equal(r.got.length, r.len);
  const inC = hq.counters(5000).find((c) => c.direction === "in")!;
  assert.equal(inC.packets, 1);
  assert.equal(inC.bytes, r.len);
  assert.equal(inC.ageSeconds, 5);
  assert.equal(branch.counters(0)[0]!.packets, 1);
});

Deno.test("outbound traffic no SA covers is counted, not sent", () => {
  const { branch } = pairOfGateways();
  const { buf, len } = packet("198.51.100.5", "192.0.2.99");
  assert.equal(branch.encapsulate(buf, MAX_ESP_HEADER, len), undefined);
  assert.equal(branch.stats.noPolicy, 1);
  // Its destination is remembered for `trap` peers, once, bounded, and handed over once.
  for (let i = 0; i < 40; i++) {
    const p = packet("198.51.100.5", `192.0.2.${100 + i}`);
    branch.encapsulate(p.buf, MAX_ESP_HEADER, p.len);
  }
  const missed = branch.takeMissed();
  assert.equal(missed[0], "192.0.2.99");
  assert.equal(missed.length, MAX_MISSED);
  assert.deepEqual(branch.takeMissed(), []);
});

Deno.test("inbound inner packets outside the SA's selectors are dropped as policy violations", () => {
  const hq = new SaDatabase(getCrypto());
  hq.install(spec(0x2002, "in"), 0);
  // A misbehaving peer whose outbound SA (same keys) covers everything.
  const rogue = new SaDatabase(getCrypto());
  const any = subnet("0.0.0.0", "255.255.255.255");
  rogue.install(spec(0x2002, "out", { localSelectors: [any], remoteSelectors: [any] }), 0);
  const r = send(rogue, hq, "10.9.9.9", "203.0.113.7");
  assert.ok(r.out);
  assert.equal(r.got, undefined);
  const c = hq.counters(0)[0]!;
  assert.equal(c.policyDrops, 1);
  assert.equal(c.packets, 0);
  const ok = send(rogue, hq, "198.51.100.9", "203.0.113.7");
  assert.ok(ok.got);
});

Deno.test("unknown SPIs and runts are counted", () => {
  const { hq } = pairOfGateways();
  const junk = new Uint8Array(64).fill(7);
  assert.equal(hq.decapsulate(junk, 0, junk.length), undefined);
  assert.equal(hq.decapsulate(junk, 0, 5), undefined);
  assert.equal(hq.stats.unknownSpi, 1);
  assert.equal(hq.stats.malformed, 1);
});

Deno.test("rekey is make-before-break: new outbound SA takes over, old inbound SA still decrypts", () => {
  const { branch, hq } = pairOfGateways();
  const { buf: inFlight, len } = packet("198.51.100.5", "203.0.113.7");
  const old = { ...branch.encapsulate(inFlight, MAX_ESP_HEADER, len)! };
  assert.equal(old.spec.spi, 0x1001);
  hq.install(spec(0x1002, "in"), 1000);
  branch.install(spec(0x1002, "out"), 1000);
  const fresh = send(branch, hq, "198.51.100.5", "203.0.113.7");
  assert.equal(fresh.out!.spec.spi, 0x1002);
  assert.ok(fresh.got);
  assert.ok(hq.decapsulate(inFlight, old.offset, old.length), "packet in flight under the old SA");
  assert.ok(branch.remove(0x1001, "out"));
  assert.ok(hq.remove(0x1001, "in"));
  assert.equal(hq.remove(0x1001, "in"), false);
});

Deno.test("a rekeyed outbound SA on standby goes into service with the peer's first authenticated packet on its partner", () => {
  const { branch, hq } = pairOfGateways();
  const fromHq = (spi: number) =>
    spec(spi, "out", { localSelectors: [HQ], remoteSelectors: [BRANCH] });
  // The new pair: our inbound 0x2002 and, on standby, our outbound 0x1002.
  branch.install(spec(0x2002, "in", { localSelectors: [BRANCH], remoteSelectors: [HQ] }), 1000);
  branch.install(spec(0x1002, "out", { activateOn: 0x2002 }), 1000);
  hq.install(spec(0x1002, "in", { localSelectors: [HQ], remoteSelectors: [BRANCH] }), 1000);
  assert.equal(send(branch, hq, "198.51.100.5", "203.0.113.7").out?.spec.spi, 0x1001);
  // A forged packet under the new inbound SPI activates nothing.
  const forged = new Uint8Array(120);
  forged.set([0, 0, 0x20, 0x02, 0, 0, 0, 1], 0);
  assert.equal(branch.decapsulate(forged, 0, forged.length), undefined);
  assert.equal(send(branch, hq, "198.51.100.5", "203.0.113.7").out?.spec.spi, 0x1001);
  // The peer sends on the new pair: we switch at once.
  hq.install(fromHq(0x2002), 1000);
  assert.ok(send(hq, branch, "203.0.113.7", "198.51.100.5").got);
  const now = send(branch, hq, "198.51.100.5", "203.0.113.7");
  assert.equal(now.out?.spec.spi, 0x1002);
  assert.ok(now.got);
  // IKE's word afterwards (message 3) finds it in service: nothing to do, not an error.
  assert.equal(branch.activate(0x1002), true);
  assert.equal(send(branch, hq, "198.51.100.5", "203.0.113.7").out?.spec.spi, 0x1002);
});

Deno.test("an outbound SA on standby: into service when IKE says so, or removed with nothing sent", () => {
  const { branch, hq } = pairOfGateways();
  branch.install(spec(0x1002, "out", { activateOn: 0x2002 }), 1000);
  assert.equal(send(branch, hq, "198.51.100.5", "203.0.113.7").out?.spec.spi, 0x1001);
  assert.equal(branch.activate(0x1002), true);
  assert.equal(send(branch, hq, "198.51.100.5", "203.0.113.7").out?.spec.spi, 0x1002);
  branch.install(spec(0x1003, "out", { activateOn: 0x2003 }), 2000);
  assert.ok(branch.remove(0x1003, "out"));
  assert.equal(branch.activate(0x1003), false);
  assert.equal(send(branch, hq, "198.51.100.5", "203.0.113.7").out?.spec.spi, 0x1002);
});

Deno.test("soft and hard lifetimes by time and by bytes raise events once", () => {
  const db = new SaDatabase(getCrypto());
  db.install(
    spec(0x3003, "out", { lifetime: { ...NO_LIMITS, softSeconds: 10, hardSeconds: 20 } }),
    0,
  );
  assert.deepEqual(db.expire(9_999), []);
  assert.deepEqual(db.expire(10_000), [{
    kind: "soft",
    spi: 0x3003,
    direction: "out",
    childId: "child-12291",
  }]);
  assert.deepEqual(db.expire(15_000), []);
  assert.deepEqual(db.expire(20_000).map((e) => e.kind), ["hard"]);
  assert.equal(db.counters(20_000).length, 0);

  db.install(
    spec(0x3004, "out", { lifetime: { ...NO_LIMITS, softBytes: 100, hardBytes: 200 } }),
    0,
  );
  const sent = () => {
    const { buf, len } = packet("198.51.100.5", "203.0.113.7", 32); // 60-byte inner packets
    return db.encapsulate(buf, MAX_ESP_HEADER, len) !== undefined;
  };
  assert.ok(sent() && sent()); // 120 bytes: soft
  assert.ok(sent() && sent()); // 240 bytes: hard, SA removed
  assert.equal(sent(), false);
  assert.deepEqual(db.expire(0).map((e) => `${e.kind}:${e.spi}`), ["soft:12292", "hard:12292"]);
});

Deno.test("cipher+mac SAs cross between two databases like AEAD ones", () => {
  const cbc = {
    transform: { kind: "cipher+mac", cipher: "aes128cbc", mac: "hmac-sha256-128" },
    keyMaterial: Uint8Array.from({ length: 48 }, (_, i) => i),
  } as const;
  const branch = new SaDatabase(getCrypto());
  const hq = new SaDatabase(getCrypto());
  branch.install(spec(0x4001, "out", cbc), 0);
  hq.install(spec(0x4001, "in", cbc), 0);
  const r = send(branch, hq, "198.51.100.5", "203.0.113.7");
  assert.ok(r.out && r.got);
  assert.equal(r.out.offset, MAX_ESP_HEADER - 24, "SPI, Seq and a 16-byte IV in front");
  assert.equal(r.got.length, r.len);
  assert.equal(hq.counters(0)[0]!.packets, 1);
  // The same keys under AEAD do not decrypt it: the SPI is the inbound SA's only key.
  const aead = new SaDatabase(getCrypto());
  aead.install(spec(0x4001, "in"), 0);
  const again = send(branch, aead, "198.51.100.5", "203.0.113.7");
  assert.equal(again.got, undefined);
});

Deno.test("specs the data path cannot carry are refused with the reason", () => {
  const db = new SaDatabase(getCrypto());
  assert.throws(
    () =>
      db.install(
        spec(0x501, "in", {
          transform: { kind: "cipher+mac", cipher: "aes128cbc", mac: "hmac-sha256-128" },
        }),
        0,
      ),
    /needs 48 bytes of key material/,
  );
  assert.throws(
    () => db.install(spec(0x502, "in", { keyMaterial: new Uint8Array(16) }), 0),
    /needs 20 bytes/,
  );
  assert.throws(() => db.install(spec(255, "in"), 0), /SPI must be 256/);
  assert.throws(
    () =>
      db.install(
        spec(0x504, "out", { transform: { kind: "aead", alg: "rot13" } as unknown as never }),
        0,
      ),
    /unsupported transform/,
  );
  assert.throws(() => db.install(spec(0x505, "in", { replayWindow: -1 }), 0), /replay window/);
  db.install(spec(0x503, "in"), 0);
  assert.throws(() => db.install(spec(0x503, "in"), 0), /SPI in use/);
  db.install(spec(0x503, "out"), 0);
  assert.throws(() => db.install(spec(0x503, "out"), 0), /SPI in use/);
  assert.throws(
    () =>
      db.install(
        spec(0x506, "in", { localSelectors: [subnet("203.0.113.0", "2001:db8::1")] }),
        0,
      ),
    /bad traffic selector/,
  );
  assert.equal(db.counters(0).length, 2);
  for (const e of db.counters(0)) assert.equal(e.spi, 0x503);
});
