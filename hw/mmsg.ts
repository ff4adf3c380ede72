/**
 * Batched datagram I/O with recvmmsg(2)/sendmmsg(2) over caller-owned packet slots, and UDP
 * GSO (UDP_SEGMENT, Linux ≥ 4.18): consecutive equal-sized datagrams to one destination leave
 * in a single message whose iovecs point at the slots, so nothing is copied.
 *
 * Every structure (mmsghdr, iovec, sockaddr, cmsg) is laid out once in fixed buffers; a call
 * only rewrites lengths and addresses, allocating nothing. Layouts are those of LP64 Linux
 * (x86_64 and aarch64 alike).
 * @module
 */

import { addressOf, EAGAIN, EINTR, errno, errnoMessage, libc } from "./libc.ts";

/**
 * Packet memory shared by the packet path and the I/O layer: `capacity` slots of `slotSize`
 * bytes in one buffer, with per-slot metadata. `start` is an absolute offset into `data`;
 * `length` -1 marks a slot to skip. Addresses are 4 (IPv4, first 4 bytes used) or 16 bytes
 * per slot in `address`, network order.
 */
export interface PacketSlots {
  /** Number of slots. */
  readonly capacity: number;
  /** Bytes per slot. */
  readonly slotSize: number;
  /** All slots, back to back. */
  readonly data: Uint8Array;
  /** Where each slot's datagram starts in `data`. */
  readonly start: Int32Array;
  /** Each slot's datagram length, or -1 to skip it. */
  readonly length: Int32Array;
  /** Address family of each slot's peer: 4 or 6. */
  readonly family: Uint8Array;
  /** Peer address per slot (16 bytes each). */
  readonly address: Uint8Array;
  /** Peer port per slot (0 for raw IP). */
  readonly port: Uint16Array;
  /** Which output a slot goes to; `send` takes the slots carrying its tag. */
  readonly tag: Int16Array;
}

const AF_INET = 2;
const AF_INET6 = 10;
const MSGHDR = 64; // struct mmsghdr
const IOVEC = 16;
const NAME = 32; // room for sockaddr_in6 (28)
const CMSG = 24; // CMSG_SPACE(sizeof(uint16_t))
const RECV_CMSG = 64; // room for IP_PKTINFO (32) or IPV6_PKTINFO (40) on receive
const IPPROTO_IP = 0;
const IP_PKTINFO = 8;
const IPPROTO_IPV6 = 41;
const IPV6_PKTINFO = 50;
const SOL_UDP = 17;
const UDP_SEGMENT = 103;
const MSG_TRUNC = 0x20;
const EINVAL = 22;
const EIO = 5;
const EMSGSIZE = 90;
/** Kernel limit on segments per GSO send (UDP_MAX_SEGMENTS on older kernels). */
const GSO_MAX_SEGMENTS = 64;
/** A GSO send must stay below the 64 KiB IP datagram limit. */
const GSO_MAX_BYTES = 65000;

const TWO_32 = 0x1_0000_0000;

/** Writes a 64-bit number (a pointer or size below 2^53) into a Uint32Array, little-endian. */
function put64(u32: Uint32Array, index: number, value: number): void {
  u32[index] = value % TWO_32;
  u32[index + 1] = Math.floor(value / TWO_32);
}

/** Per-socket UDP GSO state: the largest segment size grouped (lowered when refused). */
export interface GsoState {
  /** Datagrams up to this size are grouped; 0 disables GSO. */
  maxSegment: number;
}

/** Outcome of a {@link MmsgIo.send}. */
export interface SendResult {
  /** Datagrams the kernel took. */
  sent: number;
  /** Datagrams dropped (full queue, unreachable, too big). */
  failed: number;
}

/** recvmmsg/sendmmsg over one {@link PacketSlots}. */
export class MmsgIo {
  readonly #slots: PacketSlots;
  readonly #dataAddr: number;
  readonly #hdrs: Uint8Array;
  readonly #hdr32: Uint32Array;
  readonly #iov32: Uint32Array;
  readonly #iovAddr: number;
  readonly #names: Uint8Array;
  readonly #namesAddr: number;
  readonly #ctrl: Uint8Array;
  readonly #ctrlAddr: number;
  readonly #recvCtrl: Uint8Array;
  readonly #recvCtrlView: DataView;
  readonly #recvCtrlAddr: number;
  readonly #groupFirst: Int32Array; // per message: its first slot
  readonly #groupCount: Int32Array; // per message: its number of slots
  readonly #result: SendResult = { sent: 0, failed: 0 };
  #gso: GsoState | undefined;
  /** Messages the kernel accepted (a GSO message carries several datagrams). */
  messagesSent = 0;

  /** Lays out the structures for `slots` (kept alive by this object). */
  constructor(slots: PacketSlots) {
    const n = slots.capacity;
    this.#slots = slots;
    this.#dataAddr = addressOf(slots.data);
    this.#hdrs = new Uint8Array(n * MSGHDR);
    this.#hdr32 = new Uint32Array(this.#hdrs.buffer);
    const iovs = new Uint8Array(n * IOVEC);
    this.#iov32 = new Uint32Array(iovs.buffer);
    this.#iovAddr = addressOf(iovs);
    this.#names = new Uint8Array(n * NAME);
    this.#namesAddr = addressOf(this.#names);
    this.#ctrl = new Uint8Array(n * CMSG);
    this.#ctrlAddr = addressOf(this.#ctrl);
    this.#recvCtrl = new Uint8Array(n * RECV_CMSG);
    this.#recvCtrlView = new DataView(this.#recvCtrl.buffer);
    this.#recvCtrlAddr = addressOf(this.#recvCtrl);
    const ctrlView = new DataView(this.#ctrl.buffer);
    for (let i = 0; i < n; i++) {
      // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } + u16 segment size
      ctrlView.setUint32(i * CMSG, 16 + 2, true);
      ctrlView.setInt32(i * CMSG + 8, SOL_UDP, true);
      ctrlView.setInt32(i * CMSG + 12, UDP_SEGMENT, true);
    }
    this.#groupFirst = new Int32Array(n);
    this.#groupCount = new Int32Array(n);
  }

  /**
   * Receives up to `max` datagrams from `fd` into slots 0…n-1, each landing `offset` bytes into
   * its slot; fills start, length (-1 for a truncated datagram), family, address and port.
   * Returns n (0 when nothing is waiting). Throws only for errors other than EAGAIN/EINTR.
   */
  recv(fd: number, offset: number, max: number): number {
    const s = this.#slots;
    const h = this.#hdr32;
    const iov = this.#iov32;
    const count = Math.min(max, s.capacity);
    for (let i = 0; i < count; i++) {
      const w = i * (MSGHDR / 4);
      put64(h, w, this.#namesAddr + i * NAME); // msg_name
      h[w + 2] = NAME; // msg_namelen
      h[w + 3] = 0;
      put64(h, w + 4, this.#iovAddr + i * IOVEC); // msg_iov
      put64(h, w + 6, 1); // msg_iovlen
      put64(h, w + 8, this.#recvCtrlAddr + i * RECV_CMSG); // msg_control
      put64(h, w + 10, RECV_CMSG); // msg_controllen
      h[w + 12] = 0; // msg_flags
      h[w + 14] = 0; // msg_len
      put64(iov, i * 4, this.#dataAddr + i * s.slotSize + offset);
      put64(iov, i * 4 + 2, s.slotSize - offset);
    }
    const n = libc().recvmmsg(fd, this.#hdrs, count, 0, null);
    if (n < 0) {
      const e = errno();
      if (e === EAGAIN || e === EINTR) return 0;
      throw new Error(`recvmmsg: ${errnoMessage(e)}`);
    }
    const names = this.#names;
    for (let i = 0; i < n; i++) {
      const w = i * (MSGHDR / 4);
      s.start[i] = i * s.slotSize + offset;
      s.length[i] = (h[w + 12]! & MSG_TRUNC) !== 0 ? -1 : h[w + 14]!;
      const a = i * NAME;
      const family = names[a]! | (names[a + 1]! << 8);
      s.port[i] = (names[a + 2]! << 8) | names[a + 3]!;
      if (family === AF_INET6) {
        s.family[i] = 6;
        for (let k = 0; k < 16; k++) s.address[i * 16 + k] = names[a + 8 + k]!;
      } else {
        s.family[i] = 4;
        for (let k = 0; k < 4; k++) s.address[i * 16 + k] = names[a + 4 + k]!;
      }
    }
    return n;
  }

  /**
   * The destination address of datagram `i` of the last {@link recv} (from IP_PKTINFO or
   * IPV6_PKTINFO, when the socket asked for them) written into `out` (16 bytes); returns its
   * length (4 or 16), or 0 when the kernel gave none.
   */
  localAddress(i: number, out: Uint8Array): number {
    const h = this.#hdr32;
    const v = this.#recvCtrlView;
    const base = i * RECV_CMSG;
    const length = Math.min(h[i * (MSGHDR / 4) + 10]!, RECV_CMSG); // msg_controllen after recv
    for (let p = 0; p + 16 <= length;) {
      const cmsgLen = v.getUint32(base + p, true);
      if (cmsgLen < 16 || p + cmsgLen > length) break;
      const level = v.getInt32(base + p + 8, true);
      const type = v.getInt32(base + p + 12, true);
      const data = base + p + 16;
      if (level === IPPROTO_IP && type === IP_PKTINFO && cmsgLen >= 16 + 12) {
        out.set(this.#recvCtrl.subarray(data + 8, data + 12)); // in_pktinfo.ipi_addr
        return 4;
      }
      if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && cmsgLen >= 16 + 20) {
        out.set(this.#recvCtrl.subarray(data, data + 16)); // in6_pktinfo.ipi6_addr
        return 16;
      }
      p += (cmsgLen + 7) & ~7;
    }
    return 0;
  }

  /**
   * Sends the slots among 0…count-1 whose tag is `tag` and length positive, each to its slot's
   * address and port (IPv4 or IPv6, matching the socket). With `gso` (UDP sockets only),
   * equal-sized datagrams to one peer go out as one GSO message. Never throws: failures are
   * counted. The result object is reused by the next call.
   */
  send(fd: number, tag: number, count: number, gso: GsoState | undefined): SendResult {
    const r = this.#result;
    r.sent = 0;
    r.failed = 0;
    this.#gso = gso;
    this.#sendFrom(fd, tag, 0, count);
    return r;
  }

  #sendFrom(fd: number, tag: number, from: number, count: number): void {
    const s = this.#slots;
    const r = this.#result;
    const messages = this.#build(tag, from, count);
    let m = 0;
    while (m < messages) {
      const hdrs = m === 0 ? this.#hdrs : this.#hdrs.subarray(m * MSGHDR);
      const n = libc().sendmmsg(fd, hdrs, messages - m, 0);
      if (n > 0) {
        for (let i = m; i < m + n; i++) r.sent += this.#groupCount[i]!;
        this.messagesSent += n;
        m += n;
        continue;
      }
      const e = errno();
      if (e === EINTR) continue;
      const segments = this.#groupCount[m]!;
      if (segments > 1 && (e === EINVAL || e === EIO || e === EMSGSIZE)) {
        // The path refused this segment size: stop grouping it and resend everything from here.
        const first = this.#groupFirst[m]!;
        if (this.#gso !== undefined) this.#gso.maxSegment = s.length[first]! - 1;
        this.#sendFrom(fd, tag, first, count);
        return;
      }
      if (e === EAGAIN) {
        for (let i = m; i < messages; i++) r.failed += this.#groupCount[i]!;
        return;
      }
      r.failed += segments; // this datagram cannot be sent (no route, too big): drop it
      m++;
    }
  }

  /** Lays out the messages for the tagged slots in [from, count); returns how many. */
  #build(tag: number, from: number, count: number): number {
    const s = this.#slots;
    const h = this.#hdr32;
    const iov = this.#iov32;
    let m = 0;
    let v = 0; // next free iovec
    let i = from;
    while (i < count) {
      if (s.tag[i] !== tag || s.length[i]! <= 0) {
        i++;
        continue;
      }
      const segment = s.length[i]!;
      const firstIov = v;
      this.#groupFirst[m] = i;
      put64(iov, v * 4, this.#dataAddr + s.start[i]!);
      put64(iov, v * 4 + 2, segment);
      v++;
      let total = segment;
      let segments = 1;
      let j = i + 1;
      if (this.#gso !== undefined && segment <= this.#gso.maxSegment) {
        for (; j < count && segments < GSO_MAX_SEGMENTS; j++) {
          if (s.tag[j] !== tag || s.length[j]! <= 0) continue;
          const len = s.length[j]!;
          if (len > segment || total + len > GSO_MAX_BYTES || !this.#sameDestination(i, j)) break;
          put64(iov, v * 4, this.#dataAddr + s.start[j]!);
          put64(iov, v * 4 + 2, len);
          v++;
          total += len;
          segments++;
          if (len < segment) {
            j++; // a shorter datagram can only be the last segment
            break;
          }
        }
      }
      const w = m * (MSGHDR / 4);
      const nameLength = this.#writeName(m, i);
      put64(h, w, this.#namesAddr + m * NAME);
      h[w + 2] = nameLength;
      h[w + 3] = 0;
      put64(h, w + 4, this.#iovAddr + firstIov * IOVEC);
      put64(h, w + 6, segments);
      if (segments > 1) {
        this.#ctrl[m * CMSG + 16] = segment & 0xff;
        this.#ctrl[m * CMSG + 17] = segment >> 8;
        put64(h, w + 8, this.#ctrlAddr + m * CMSG);
        put64(h, w + 10, CMSG);
      } else {
        put64(h, w + 8, 0);
        put64(h, w + 10, 0);
      }
      h[w + 12] = 0;
      h[w + 14] = 0;
      this.#groupCount[m] = segments;
      m++;
      i = segments > 1 ? j : i + 1;
    }
    return m;
  }

  #sameDestination(a: number, b: number): boolean {
    const s = this.#slots;
    if (s.family[a] !== s.family[b] || s.port[a] !== s.port[b]) return false;
    const n = s.family[a] === 6 ? 16 : 4;
    for (let k = 0; k < n; k++) {
      if (s.address[a * 16 + k] !== s.address[b * 16 + k]) return false;
    }
    return true;
  }

  /** Writes slot `i`'s peer as the sockaddr of message `m`; returns its length. */
  #writeName(m: number, i: number): number {
    const s = this.#slots;
    const names = this.#names;
    const a = m * NAME;
    names.fill(0, a, a + NAME);
    const port = s.port[i]!;
    names[a + 2] = port >> 8;
    names[a + 3] = port & 0xff;
    if (s.family[i] === 6) {
      names[a] = AF_INET6;
      for (let k = 0; k < 16; k++) names[a + 8 + k] = s.address[i * 16 + k]!;
      return 28;
    }
    names[a] = AF_INET;
    for (let k = 0; k < 4; k++) names[a + 4 + k] = s.address[i * 16 + k]!;
    return 16;
  }
}

const shared = new WeakMap<PacketSlots, MmsgIo>();

/** The (shared) batch I/O structures for `slots`; any number of fds may use them in turn. */
export function mmsgFor(slots: PacketSlots): MmsgIo {
  let io = shared.get(slots);
  if (io === undefined) {
    io = new MmsgIo(slots);
    shared.set(slots, io);
  }
  return io;
}
