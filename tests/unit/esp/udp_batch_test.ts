/**
 * hw/udp.ts over loopback (no root needed): sendmmsg with UDP GSO groups equal-sized datagrams
 * to one peer and the receiver still sees each datagram on its own, with the right sizes,
 * contents and source; IPv6 works the same; tags select which slots a socket sends; truncated
 * datagrams are marked, never delivered cut short.
 */

import assert from "node:assert/strict";
import { PollSet } from "../../../hw/libc.ts";
import { mmsgFor } from "../../../hw/mmsg.ts";
import { openUdp } from "../../../hw/udp.ts";
import { PacketBatch } from "../../../src/esp/batch.ts";

const LO4 = new Uint8Array([127, 0, 0, 1]);
const LO6 = new Uint8Array(16).fill(0, 0, 15).fill(1, 15);

function fill(
  b: PacketBatch,
  i: number,
  len: number,
  seed: number,
  addr: Uint8Array,
  port: number,
) {
  const at = i * b.slotSize + 32;
  for (let k = 0; k < len; k++) b.data[at + k] = (seed + k) & 0xff;
  b.start[i] = at;
  b.length[i] = len;
  b.family[i] = addr.length === 16 ? 6 : 4;
  b.address.set(addr, i * 16);
  b.port[i] = port;
  b.tag[i] = 1;
}

function receiveAll(sock: ReturnType<typeof openUdp>, rx: PacketBatch, want: number) {
  const got: { len: number; first: number; port: number }[] = [];
  const poll = new PollSet([sock.fd]);
  while (got.length < want && poll.wait(1000) > 0) {
    const n = sock.recvBatch(rx, 0, rx.capacity);
    for (let i = 0; i < n; i++) {
      got.push({ len: rx.length[i]!, first: rx.data[rx.start[i]!]!, port: rx.port[i]! });
    }
  }
  return got;
}

for (const [name, lo] of [["IPv4", LO4], ["IPv6", LO6]] as const) {
  Deno.test(`${name} loopback: a GSO batch arrives as separate datagrams, in order`, () => {
    const a = openUdp(lo, 0);
    const b = openUdp(lo, 0);
    try {
      const tx = new PacketBatch(64, 1500);
      const rx = new PacketBatch(64, 1500);
      // 40 equal datagrams, one shorter (closes the GSO group), then 3 more of another size.
      const sizes = [...Array(40).fill(1000), 700, 1200, 1200, 1200];
      sizes.forEach((len, i) => fill(tx, i, len, i, lo, b.port));
      tx.tag[5] = 2; // not this socket's: must not be sent
      const r = a.sendBatch(tx, 1, sizes.length);
      assert.deepEqual({ ...r }, { sent: sizes.length - 1, failed: 0 });
      // The 39 equal datagrams (slot 5 skipped) and the short one as one GSO message, the
      // 1200-byte ones as another.
      assert.equal(mmsgFor(tx).messagesSent, 2);
      const got = receiveAll(b, rx, sizes.length - 1);
      const expected = sizes.map((len, i) => ({ len, first: i & 0xff, port: a.port }))
        .filter((_, i) => i !== 5);
      assert.deepEqual(got, expected);
      assert.equal(rx.family[0], name === "IPv6" ? 6 : 4);
      assert.deepEqual(rx.address.subarray(0, lo.length), lo);
    } finally {
      a.close();
      b.close();
    }
  });
}

Deno.test("a datagram larger than the receive slot is marked truncated (-1)", () => {
  const a = openUdp(LO4, 0);
  const b = openUdp(LO4, 0);
  try {
    const tx = new PacketBatch(2, 4000);
    const rx = new PacketBatch(2, 600);
    fill(tx, 0, 3000, 7, LO4, b.port);
    fill(tx, 1, 100, 9, LO4, b.port);
    assert.equal(a.sendBatch(tx, 1, 2).sent, 2);
    const got = receiveAll(b, rx, 2);
    assert.deepEqual(got.map((g) => g.len), [-1, 100]);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("sendTo carries one control datagram", () => {
  const a = openUdp(LO4, 0);
  const b = openUdp(LO4, 0);
  try {
    assert.ok(a.sendTo(new Uint8Array([0xff]), LO4, b.port));
    const rx = new PacketBatch(4, 1500);
    const got = receiveAll(b, rx, 1);
    assert.deepEqual(got, [{ len: 1, first: 0xff, port: a.port }]);
  } finally {
    a.close();
    b.close();
  }
});
