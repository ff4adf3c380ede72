/**
 * A Linux TUN device (`/dev/net/tun`, TUNSETIFF with IFF_TUN | IFF_NO_PI): every read is one IP
 * packet, every write sends one. Non-blocking; see `PollSet` in hw/libc.ts. The device's MTU
 * and up state are set with interface ioctls (no iproute2 needed).
 * @module
 */

import {
  addressOf,
  EAGAIN,
  EINTR,
  errno,
  errnoMessage,
  libc,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
} from "./libc.ts";
import type { PacketSlots } from "./mmsg.ts";

// linux/if_tun.h, linux/sockios.h, linux/if.h
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_MULTI_QUEUE = 0x0100;
const IFNAMSIZ = 16;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCSIFMTU = 0x8922;
const IFF_UP = 0x1;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const TWO_32 = 0x1_0000_0000;

/** An open TUN queue. */
export interface Tun {
  /** Interface name the kernel gave it. */
  readonly name: string;
  /** The file descriptor (for poll). */
  readonly fd: number;
  /** Reads one packet into `buf`; returns its length, or 0 when none is waiting. */
  read(buf: Uint8Array): number;
  /**
   * Reads up to `max` packets into slots 0…n-1, `offset` bytes into each slot (room for the
   * ESP header in front); fills start and length; returns n. No allocation.
   */
  readBatch(slots: PacketSlots, offset: number, max: number): number;
  /** Writes one packet; returns false when the queue is full (the packet is dropped). */
  write(packet: Uint8Array): boolean;
  /** Writes `data[start, start+length)` as one packet without copying; false when dropped. */
  writeAt(data: Uint8Array, start: number, length: number): boolean;
  /** Sets the MTU and brings the device up. */
  up(mtu: number): void;
  /** Closes the queue (the device goes away with its last queue). */
  close(): void;
}

function ifreq(name: Uint8Array): Uint8Array {
  const ifr = new Uint8Array(40); // struct ifreq: name[16], then a union (flags, mtu, …)
  ifr.set(name, 0);
  return ifr;
}

/** Sets `name`'s MTU and IFF_UP through an AF_INET control socket (needs CAP_NET_ADMIN). */
function bringUp(name: Uint8Array, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) {
    throw new RangeError(`TUN MTU must be 576..65535, got ${mtu}`);
  }
  const c = libc();
  const s = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) throw new Error(`socket for interface ioctls: ${errnoMessage(errno())}`);
  try {
    const m = ifreq(name);
    new DataView(m.buffer).setInt32(16, mtu, true);
    if (c.ioctl(s, BigInt(SIOCSIFMTU), m) < 0) {
      throw new Error(`SIOCSIFMTU: ${errnoMessage(errno())}`);
    }
    const f = ifreq(name);
    if (c.ioctl(s, BigInt(SIOCGIFFLAGS), f) < 0) {
      throw new Error(`SIOCGIFFLAGS: ${errnoMessage(errno())}`);
    }
    f[16] = f[16]! | IFF_UP;
    if (c.ioctl(s, BigInt(SIOCSIFFLAGS), f) < 0) {
      throw new Error(`SIOCSIFFLAGS: ${errnoMessage(errno())}`);
    }
  } finally {
    c.close(s);
  }
}

/**
 * Opens (creating if needed) the TUN device `name`. With `multiQueue`, each call adds a queue
 * to the same device (one per worker). Throws an Error naming the device and errno on failure.
 */
export function openTun(name: string, multiQueue = false): Tun {
  const enc = new TextEncoder().encode(name);
  if (enc.length === 0 || enc.length >= IFNAMSIZ) {
    throw new RangeError(`TUN name must be 1..${IFNAMSIZ - 1} bytes: '${name}'`);
  }
  const c = libc();
  const fd = c.open(new TextEncoder().encode("/dev/net/tun\0"), O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) throw new Error(`open /dev/net/tun: ${errnoMessage(errno())}`);
  const ifr = ifreq(enc);
  const flags = IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0);
  ifr[16] = flags & 0xff;
  ifr[17] = flags >> 8;
  if (c.ioctl(fd, BigInt(TUNSETIFF), ifr) < 0) {
    const e = errno();
    c.close(fd);
    throw new Error(`TUNSETIFF ${name}: ${errnoMessage(e)}`);
  }
  const end = ifr.indexOf(0);
  const nameBytes = ifr.slice(0, end < 0 ? IFNAMSIZ : end);
  const actual = new TextDecoder().decode(nameBytes);
  return packetDevice(fd, actual, (mtu) => bringUp(nameBytes, mtu), true);
}

/**
 * Wraps an open, non-blocking packet fd (a TUN queue, or one end of a datagram socketpair
 * standing in for it in tests) as a {@link Tun}. `up` is undefined for fds that are not a
 * device; `owned` says whether `close` closes the fd.
 */
export function packetDevice(
  fd: number,
  name: string,
  up: ((mtu: number) => void) | undefined,
  owned: boolean,
): Tun {
  const c = libc();
  let open = true;
  let lastData: Uint8Array | undefined;
  let lastAddr = 0;
  const base = (data: Uint8Array): number => {
    if (data !== lastData) {
      lastAddr = addressOf(data);
      lastData = data;
    }
    return lastAddr;
  };
  // One struct iovec { void *base; size_t len; } rewritten per packet: no allocation per call.
  const iov = new Uint8Array(16);
  const iov32 = new Uint32Array(iov.buffer);
  const point = (address: number, length: number): Uint8Array => {
    iov32[0] = address % TWO_32;
    iov32[1] = Math.floor(address / TWO_32);
    iov32[2] = length;
    iov32[3] = 0;
    return iov;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} ${name}: ${errnoMessage(errno())}`);
  };
  return {
    name,
    fd,
    read(buf) {
      const n = Number(c.read(fd, buf, BigInt(buf.length)));
      if (n >= 0) return n;
      const e = errno();
      return e === EAGAIN || e === EINTR ? 0 : fail("read");
    },
    readBatch(slots, offset, max) {
      const addr = base(slots.data);
      const room = slots.slotSize - offset;
      const count = Math.min(max, slots.capacity);
      let i = 0;
      while (i < count) {
        const at = i * slots.slotSize + offset;
        const n = c.readv(fd, point(addr + at, room), 1);
        if (n <= 0) {
          if (n === 0) break;
          const e = errno();
          if (e === EAGAIN || e === EINTR) break;
          fail("read");
        }
        slots.start[i] = at;
        slots.length[i] = n;
        i++;
      }
      return i;
    },
    write(packet) {
      return Number(c.write(fd, packet, BigInt(packet.length))) === packet.length;
    },
    writeAt(data, start, length) {
      if (start < 0 || length <= 0 || start + length > data.length) return false;
      return c.writev(fd, point(base(data) + start, length), 1) === length;
    },
    up(mtu) {
      if (up === undefined) throw new Error(`${name} is not a network device`);
      up(mtu);
    },
    close() {
      if (open && owned) c.close(fd);
      open = false;
    },
  };
}
