/**
 * Packet generator for the I/O part of `make bench` (run inside the bench namespace by
 * io_run.ts): sends UDP datagrams as fast as sendmmsg (with UDP GSO) takes them, for `seconds`,
 * then prints how many the kernel accepted.
 * - `inner SIZE SECONDS`: IP packets of SIZE bytes to 203.0.113.7:9, which the kernel routes
 *   into the data path's TUN device (encapsulation load);
 * - `esp SIZE SECONDS PORT`: ESP-in-UDP datagrams to 127.0.0.1:PORT carrying packets of SIZE
 *   bytes to 198.51.100.1:9999 under the bench's inbound SA (decapsulation load);
 * - `plain SIZE SECONDS PORT`: UDP datagrams of SIZE - 28 bytes to 127.0.0.1:PORT (reference).
 */

import { PollSet } from "../../hw/libc.ts";
import { openUdp } from "../../hw/udp.ts";
import { getCrypto } from "../../src/crypto/registry.ts";
import { PacketBatch } from "../../src/esp/batch.ts";
import { MAX_ESP_HEADER, MAX_ESP_TRAILER, SaDatabase } from "../../src/esp/sad.ts";
import { udp4, withIpv4Checksum } from "../fakes/packets.ts";
import { benchSpec } from "./io_spec.ts";

const [kind, sizeText, secondsText, portText] = Deno.args;
const size = Number(sizeText);
const seconds = Number(secondsText);
const BATCH = 64;

const batch = new PacketBatch(BATCH, 2048);
let dst: Uint8Array;
let port: number;
if (kind === "inner") {
  dst = new Uint8Array([203, 0, 113, 7]);
  port = 9;
  for (let i = 0; i < BATCH; i++) fill(i, new Uint8Array(size - 28).fill(i));
} else if (kind === "plain") {
  dst = new Uint8Array([127, 0, 0, 1]);
  port = Number(portText);
  for (let i = 0; i < BATCH; i++) fill(i, new Uint8Array(size - 28).fill(i));
} else if (kind === "esp") {
  dst = new Uint8Array([127, 0, 0, 1]);
  port = Number(portText);
  // The peer's side of the bench SA: our inbound SPI as its outbound one.
  const peer = new SaDatabase(getCrypto());
  const s = benchSpec("in");
  peer.install(
    {
      ...s,
      direction: "out",
      localSelectors: s.remoteSelectors,
      remoteSelectors: s.localSelectors,
    },
    0,
  );
  const buf = new Uint8Array(MAX_ESP_HEADER + size + MAX_ESP_TRAILER);
  for (let i = 0; i < BATCH; i++) {
    const inner = withIpv4Checksum(
      udp4("203.0.113.7", "198.51.100.1", { sport: 1000 + i, dport: 9999, payload: size - 28 }),
    );
    buf.set(inner, MAX_ESP_HEADER);
    const r = peer.encapsulate(buf, MAX_ESP_HEADER, size)!;
    fill(i, buf.slice(r.offset, r.offset + r.length));
  }
} else {
  throw new Error("usage: io_blast.ts inner|esp|plain SIZE SECONDS [PORT]");
}

function fill(i: number, datagram: Uint8Array): void {
  const at = i * batch.slotSize + 32;
  batch.data.set(datagram, at);
  batch.start[i] = at;
  batch.length[i] = datagram.length;
  batch.tag[i] = 0;
  batch.family[i] = 4;
}
for (let i = 0; i < BATCH; i++) {
  batch.address.set(dst, i * 16);
  batch.port[i] = port;
}

const sock = openUdp(new Uint8Array(4), 0, true);
const poll = new PollSet([]);
let sent = 0;
const end = performance.now() + seconds * 1000;
while (performance.now() < end) {
  const r = sock.sendBatch(batch, 0, BATCH);
  sent += r.sent;
  if (r.sent === 0) poll.wait(1); // the queue is full: let the receiver catch up
}
sock.close();
console.log(JSON.stringify({ sent, seconds }));
