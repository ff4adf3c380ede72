/**
 * A fake ESP peer and a fake TUN for data-path tests without root: the peer is an SA database
 * behind a loopback UDP socket; the TUN is one end of a datagram socketpair whose other end the
 * data path uses as its device.
 * @module
 */

import { closeFd, openPacketPair } from "../../hw/packet_pair.ts";
import { PollSet } from "../../hw/libc.ts";
import { packetDevice, type Tun } from "../../hw/tun.ts";
import { openUdp, type UdpSocket } from "../../hw/udp.ts";
import { PacketBatch } from "../../src/esp/batch.ts";
import { getCrypto } from "../../src/crypto/registry.ts";
import { MAX_ESP_HEADER, MAX_ESP_TRAILER, SaDatabase } from "../../src/esp/sad.ts";
import type { EspSaSpec, TrafficSelector } from "../../src/esp/sa_spec.ts";

/** A selector for a whole IPv4 /24 (or any given range), any protocol and port. */
export function rangeSelector(start: string, end: string): TrafficSelector {
  return { startAddress: start, endAddress: end, protocol: 0, startPort: 0, endPort: 65535 };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 10 ms (yielding to the event loop) until it returns a value or `ms` pass. */
export async function eventually<T>(check: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}

/** A datagram the peer received. */
export interface Received {
  /** Payload. */
  readonly data: Uint8Array;
  /** Sender's port. */
  readonly port: number;
}

/** A fake TUN: the test's end of a socketpair; the data path gets `deviceFd`. */
export class FakeTun {
  /** The fd to hand to the data path as `packetFd`. */
  readonly deviceFd: number;
  readonly #mine: Tun;
  readonly #buf = new Uint8Array(65536);

  constructor() {
    const [a, b] = openPacketPair();
    this.deviceFd = a;
    this.#mine = packetDevice(b, "faketun", undefined, true);
  }

  /** Injects an inner packet as if the kernel routed it into the TUN device. */
  inject(packet: Uint8Array): boolean {
    return this.#mine.write(packet);
  }

  /**
   * Injects a packet, waiting while the socketpair's queue is full (it holds only
   * net.unix.max_dgram_qlen datagrams, often 10); false after `ms` without room.
   */
  async injectWhenRoom(packet: Uint8Array, ms = 2000): Promise<boolean> {
    const end = Date.now() + ms;
    while (!this.inject(packet)) {
      if (Date.now() > end) return false;
      await sleep(1);
    }
    return true;
  }

  /** Reads every packet the data path wrote to the device (non-blocking). */
  drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let n = this.#mine.read(this.#buf); n > 0; n = this.#mine.read(this.#buf)) {
      out.push(this.#buf.slice(0, n));
    }
    return out;
  }

  /** Closes both ends (after the data path stopped). */
  close(): void {
    this.#mine.close();
    closeFd(this.deviceFd);
  }
}

/** The far gateway: its own SA database and a UDP socket on a loopback address. */
export class FakePeer {
  /** Its SA database. */
  readonly sad = new SaDatabase(getCrypto());
  /** Its socket. */
  readonly socket: UdpSocket;
  readonly #rx = new PacketBatch(64, 2048);
  readonly #poll: PollSet;
  readonly #tx = new Uint8Array(65536);

  /** A peer on `address` (127.0.0.1 unless given, e.g. ::1 for an IPv6 outer header). */
  constructor(readonly address: Uint8Array = new Uint8Array([127, 0, 0, 1])) {
    this.socket = openUdp(address, 0, false);
    this.#poll = new PollSet([this.socket.fd]);
  }

  /** The peer's UDP port. */
  get port(): number {
    return this.socket.port;
  }

  /** Installs an SA on the peer's side. */
  install(spec: EspSaSpec): void {
    this.sad.install(spec, performance.now());
  }

  /** Everything received so far (non-blocking). */
  receive(): Received[] {
    const out: Received[] = [];
    while (this.#poll.wait(0) > 0) {
      const n = this.socket.recvBatch(this.#rx, 0, 64);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const at = this.#rx.start[i]!;
        out.push({
          data: this.#rx.data.slice(at, at + this.#rx.length[i]!),
          port: this.#rx.port[i]!,
        });
      }
    }
    return out;
  }

  /** Encapsulates `inner` with the peer's outbound SA; returns the ESP datagram. */
  encapsulate(inner: Uint8Array): Uint8Array {
    this.#tx.set(inner, MAX_ESP_HEADER);
    const r = this.sad.encapsulate(
      this.#tx.subarray(0, MAX_ESP_HEADER + inner.length + MAX_ESP_TRAILER),
      MAX_ESP_HEADER,
      inner.length,
    );
    if (r === undefined) throw new Error("the peer has no SA for this packet");
    return this.#tx.slice(r.offset, r.offset + r.length);
  }

  /** Decapsulates an ESP datagram; the inner packet, or undefined when dropped. */
  decapsulate(esp: Uint8Array): Uint8Array | undefined {
    const buf = esp.slice();
    const r = this.sad.decapsulate(buf, 0, buf.length);
    return r === undefined ? undefined : buf.slice(r.offset, r.offset + r.length);
  }

  /** Sends a datagram to `port` on the peer's own (loopback) address. */
  send(data: Uint8Array, port: number): boolean {
    return this.socket.sendTo(data, this.address, port);
  }

  /** Closes the socket. */
  close(): void {
    this.socket.close();
  }
}
