/**
 * Diffie-Hellman vectors (RFC 7748 §6, RFC 5903 §8, MODP cross-check) and the RFC 6989 public
 * value checks, over the software implementation and every backend that offers each group.
 */

import assert from "node:assert/strict";
import ecdh from "./data/ecdh.json" with { type: "json" };
import modp from "./data/modp_dh.json" with { type: "json" };
import { availableBackends, hex, toHex } from "./backends.ts";
import type { DhGroup, DhGroupId } from "../../src/crypto/types.ts";
import { softwareDh } from "../../src/crypto/software_dh.ts";
import { ALL_GROUPS, groupInfo, LEGACY_GROUPS, modpPrime } from "../../src/crypto/dh/groups.ts";
import { bigintToBytes } from "../../src/crypto/dh/groups.ts";

const backends = await availableBackends();

/** Every implementation of group `id`: the software one, then each backend that offers it. */
function offering(id: DhGroupId): { name: string; dh: () => DhGroup }[] {
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const list = [{ name: "software_dh", dh: () => softwareDh(id, random) }];
  for (const b of backends) {
    const g = b.supports(`dh:${id}`) ? b.dh(id) : undefined;
    if (g !== undefined) list.push({ name: b.name, dh: () => g });
  }
  return list;
}

for (const v of [...ecdh.cases, ...modp.cases]) {
  const id = v.group as DhGroupId;
  Deno.test(`${v.name} (group ${id}): public values and shared secret on every backend`, () => {
    for (const b of offering(id)) {
      const g = b.dh();
      const i = g.fromPrivate(hex(v.privateI));
      const r = g.fromPrivate(hex(v.privateR));
      assert.equal(toHex(i.publicValue), v.publicI, b.name);
      assert.equal(toHex(r.publicValue), v.publicR, b.name);
      assert.equal(toHex(i.computeShared(hex(v.publicR))), v.shared, b.name);
      assert.equal(toHex(r.computeShared(hex(v.publicI))), v.shared, b.name);
    }
  });
}

for (const id of ALL_GROUPS) {
  Deno.test(`group ${id}: fresh key pairs agree, within and across backends`, () => {
    const list = offering(id);
    const pairs = list.map((b) => b.dh().generate());
    for (const p of pairs) assert.equal(p.publicValue.length, groupInfo(id).publicLength);
    const ref = toHex(pairs[0]!.computeShared(pairs[1 % pairs.length]!.publicValue));
    const back = toHex(pairs[1 % pairs.length]!.computeShared(pairs[0]!.publicValue));
    assert.equal(ref, back);
  });

  Deno.test(`group ${id}: RFC 6989 refuses bad peer values with a CryptoError`, () => {
    for (const b of offering(id)) {
      const me = b.dh().generate();
      const len = groupInfo(id).publicLength;
      const bad: Uint8Array[] = [new Uint8Array(len - 1), new Uint8Array(len + 1)];
      const p = modpPrime(id);
      if (p !== undefined) {
        // RFC 6989 §2.1: 0, 1, p-1 and p are outside 1 < y < p-1.
        for (const y of [0n, 1n, p - 1n, p]) bad.push(bigintToBytes(y, len));
      } else if (groupInfo(id).kind === "ecp") {
        // RFC 6989 §2.3: (1, 1) is not on the curve; all-ones coordinates exceed the field.
        const off = new Uint8Array(len);
        off[len / 2 - 1] = 1;
        off[len - 1] = 1;
        bad.push(off, new Uint8Array(len).fill(0xff), new Uint8Array(len));
      } else {
        // RFC 7748 §6: u = 0 and u = 1 are low-order points, the result would be all zero.
        const one = new Uint8Array(len);
        one[0] = 1;
        bad.push(new Uint8Array(len), one);
      }
      for (const v of bad) {
        assert.throws(() => me.computeShared(v), { name: "CryptoError" }, `${b.name} ${toHex(v)}`);
      }
    }
  });
}

Deno.test("group 2 exists but is legacy; every other group is not", () => {
  assert.deepEqual([...LEGACY_GROUPS], [2]);
  assert.equal(groupInfo(2).publicLength, 128);
  assert.equal(groupInfo(18).publicLength, 1024);
});
