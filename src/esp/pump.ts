/**
 * Moves packets between the TUN device and the network through the SA database: drains each
 * source in batches (no await, no timers), reusing one buffer. The fds and poll loop belong to
 * the caller (the data-path Worker, or a test); the devices are the two narrow interfaces
 * below, which hw/tun.ts and hw/socket.ts satisfy and tests can fake.
 * @module
 */

import { MAX_ESP_HEADER, type SaDatabase } from "./sad.ts";
import type { EspSaSpec } from "./sa_spec.ts";
import { classifyPort4500, NON_ESP_MARKER_LENGTH } from "./udp_encap.ts";
import { parseIp } from "../net/addr.ts";

/** A packet device (TUN): one IP packet per read/write. */
export interface PacketDevice {
  /** Reads one packet into `buf`; 0 when none is waiting. */
  read(buf: Uint8Array): number;
  /** Writes one packet. */
  write(packet: Uint8Array): boolean;
}

/** The sender of a received datagram (a reused object). */
export interface DatagramSource {
  /** IPv4 address, host order. */
  address: number;
  /** UDP port (0 for raw ESP). */
  port: number;
}

/** A datagram socket (UDP 4500, or raw ESP). */
export interface DatagramPort {
  /** Receives one datagram; 0 when none is waiting. */
  recv(buf: Uint8Array, from: DatagramSource): number;
  /** Sends `buf[offset, offset+length)`. */
  send(buf: Uint8Array, offset: number, length: number, address: number, port: number): boolean;
}

/** Counters of the pump itself (per-SA counters live in the SA database). */
export interface PumpStats {
  /** Packets read from the TUN device. */
  tunIn: number;
  /** ESP datagrams sent. */
  espOut: number;
  /** ESP datagrams received. */
  espIn: number;
  /** Inner packets written to the TUN device. */
  tunOut: number;
  /** NAT keepalives received (ignored, RFC 3948 §2.3). */
  keepalives: number;
  /** Datagrams that were neither ESP, IKE nor keepalive. */
  invalid: number;
  /** Sends the kernel refused (full queue, no route). */
  sendFailures: number;
}

/** Called for IKE messages that arrive on the shared UDP 4500 port, marker removed. */
export type IkeHandler = (message: Uint8Array, from: DatagramSource) => void;

const MAX_PACKET = 65535;

function ipv4Number(text: string): number {
  const b = parseIp(text);
  if (b === undefined || b.length !== 4) throw new RangeError(`not an IPv4 peer address: ${text}`);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** One data path's packet mover. */
export class Pump {
  /** Pump counters. */
  readonly stats: PumpStats = {
    tunIn: 0,
    espOut: 0,
    espIn: 0,
    tunOut: 0,
    keepalives: 0,
    invalid: 0,
    sendFailures: 0,
  };
  readonly #buf = new Uint8Array(MAX_ESP_HEADER + MAX_PACKET + 64);
  /** Where TUN reads land: after room for the ESP header, so encapsulation is in place. */
  readonly #tunView = this.#buf.subarray(MAX_ESP_HEADER, MAX_ESP_HEADER + MAX_PACKET);
  readonly #from: DatagramSource = { address: 0, port: 0 };
  readonly #remote = new WeakMap<EspSaSpec, number>();

  constructor(
    private readonly sad: SaDatabase,
    private readonly tun: PacketDevice,
    private readonly udp: DatagramPort | undefined,
    private readonly raw: DatagramPort | undefined,
    private readonly onIke: IkeHandler = () => {},
  ) {}

  /** TUN → ESP: encapsulates up to `batch` packets; returns how many were read. */
  fromTun(batch = 64): number {
    const buf = this.#buf;
    let n = 0;
    for (; n < batch; n++) {
      const len = this.tun.read(this.#tunView);
      if (len <= 0) break;
      this.stats.tunIn++;
      const out = this.sad.encapsulate(buf, MAX_ESP_HEADER, len);
      if (out === undefined) continue;
      const spec = out.spec;
      let address = this.#remote.get(spec);
      if (address === undefined) {
        address = ipv4Number(spec.endpoints.remote);
        this.#remote.set(spec, address);
      }
      const encap = spec.endpoints.encap;
      const sock = encap === undefined ? this.raw : this.udp;
      const ok = sock !== undefined &&
        sock.send(buf, out.offset, out.length, address, encap === undefined ? 0 : encap.remotePort);
      if (ok) this.stats.espOut++;
      else this.stats.sendFailures++;
    }
    return n;
  }

  /** UDP 4500 → TUN (ESP) or the IKE handler; up to `batch` datagrams. */
  fromUdp(batch = 64): number {
    if (this.udp === undefined) return 0;
    const buf = this.#buf;
    let n = 0;
    for (; n < batch; n++) {
      const len = this.udp.recv(buf, this.#from);
      if (len <= 0) break;
      switch (classifyPort4500(buf, 0, len)) {
        case "esp":
          this.#deliver(0, len);
          break;
        case "ike":
          this.onIke(buf.slice(NON_ESP_MARKER_LENGTH, len), { ...this.#from });
          break;
        case "keepalive":
          this.stats.keepalives++;
          break;
        default:
          this.stats.invalid++;
      }
    }
    return n;
  }

  /** Raw ESP → TUN; up to `batch` datagrams. */
  fromRaw(batch = 64): number {
    if (this.raw === undefined) return 0;
    const buf = this.#buf;
    let n = 0;
    for (; n < batch; n++) {
      const len = this.raw.recv(buf, this.#from);
      if (len <= 0) break;
      const ihl = (buf[0]! & 0x0f) * 4; // raw IPv4 sockets deliver the outer header
      if (buf[0]! >> 4 !== 4 || ihl < 20 || ihl >= len) {
        this.stats.invalid++;
        continue;
      }
      this.#deliver(ihl, len - ihl);
    }
    return n;
  }

  #deliver(offset: number, length: number): void {
    this.stats.espIn++;
    const r = this.sad.decapsulate(this.#buf, offset, length);
    if (r === undefined) return;
    if (this.tun.write(this.#buf.subarray(r.offset, r.offset + r.length))) this.stats.tunOut++;
    else this.stats.sendFailures++;
  }
}
