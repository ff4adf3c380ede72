/**
 * ESP packets produced by strongSwan 5.9.8 (kernel-libipsec, ESP-in-UDP), captured on the wire
 * with the child keys from its log (tests/vectors/data/esp_strongswan.json, made by
 * tests/interop/fixtures/esp_capture_strongswan.ts): the SA database decapsulates them on every
 * backend to the ICMP echoes and UDP datagrams that were sent; the same packet again is a
 * counted replay, a flipped bit a counted ICV failure, and an SA whose selectors do not cover
 * the inner packet a counted policy drop.
 */

import assert from "node:assert/strict";
import vectors from "../../vectors/data/esp_strongswan.json" with { type: "json" };
import { availableBackends, hex } from "../../vectors/backends.ts";
import { SaDatabase } from "../../../src/esp/sad.ts";
import type { EspSaSpec, EspTransform } from "../../../src/esp/sa_spec.ts";
import type { CryptoBackend } from "../../../src/crypto/types.ts";
import { rangeSelector } from "../../fakes/esp_peer.ts";

const INITIATOR = rangeSelector("198.51.100.1", "198.51.100.1");
const RESPONDER = rangeSelector("203.0.113.1", "203.0.113.1");

function inbound(sa: (typeof vectors.sas)[number], local = RESPONDER): EspSaSpec {
  return {
    spi: sa.spi,
    direction: "in",
    peer: "strongswan",
    childId: sa.name,
    transform: sa.transform as EspTransform,
    keyMaterial: hex(sa.keyMaterial),
    endpoints: {
      local: "192.0.2.2",
      remote: "192.0.2.1",
      encap: { localPort: 4500, remotePort: 4500 },
    },
    localSelectors: [local],
    remoteSelectors: [INITIATOR],
    esn: false,
    replayWindow: 32,
    lifetime: { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 },
  };
}

function database(b: CryptoBackend): SaDatabase {
  return new SaDatabase({
    aead: (alg, key) => b.aead(alg, key)!,
    cipher: (alg, key) => b.cipher(alg, key)!,
    mac: (alg, key) => b.mac(alg, key)!,
  });
}

assert.deepEqual(vectors.sas.map((s) => [s.name, s.packets.length]), [["gcm", 3], ["cbc", 3]]);

for (const b of await availableBackends()) {
  for (const sa of vectors.sas) {
    Deno.test(`${b.name}: strongSwan's ${sa.name} ESP packets decapsulate`, () => {
      const db = database(b);
      db.install(inbound(sa), 0);
      sa.packets.forEach((p, i) => {
        if (i === 2) {
          // A flipped bit first: dropped for its ICV, and the window does not move.
          const forged = hex(p.esp);
          forged[forged.length - 20] = forged[forged.length - 20]! ^ 1;
          assert.equal(db.decapsulate(forged, 0, forged.length), undefined);
        }
        const buf = hex(p.esp);
        const r = db.decapsulate(buf, 0, buf.length);
        assert.ok(r, `packet ${i}`);
        assert.equal(r.seq, p.seq);
        const inner = buf.subarray(r.offset, r.offset + r.length);
        assert.equal(inner[0], 0x45);
        assert.deepEqual([...inner.subarray(12, 16)], [198, 51, 100, 1]);
        assert.deepEqual([...inner.subarray(16, 20)], [203, 0, 113, 1]);
        if (sa.name === "gcm") {
          assert.equal(inner[9], 1, "ICMP");
          assert.equal(inner[20], 8, "echo request");
          assert.equal(inner.length, 20 + 8 + 100);
        } else {
          assert.equal(inner[9], 17, "UDP");
          assert.equal((inner[22]! << 8) | inner[23]!, 7);
          assert.equal(new TextDecoder().decode(inner.subarray(28)), `datagram-${i}\n`);
        }
      });
      const again = hex(sa.packets[0]!.esp);
      assert.equal(db.decapsulate(again, 0, again.length), undefined);
      const c = db.counters(0)[0]!;
      assert.deepEqual([c.packets, c.replayDrops, c.icvFailures, c.policyDrops], [3, 1, 1, 0]);
    });

    Deno.test(`${b.name}: strongSwan's ${sa.name} packets outside our selectors are policy drops`, () => {
      const db = database(b);
      db.install(inbound(sa, rangeSelector("203.0.113.2", "203.0.113.255")), 0);
      const buf = hex(sa.packets[0]!.esp);
      assert.equal(db.decapsulate(buf, 0, buf.length), undefined);
      assert.equal(db.counters(0)[0]!.policyDrops, 1);
    });
  }
}
