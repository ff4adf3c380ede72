/**
 * A Linux TUN device (`/dev/net/tun`, TUNSETIFF with IFF_TUN | IFF_NO_PI): every read is one IP
 * packet, every write sends one. Non-blocking; see `pollReadable` in hw/libc.ts.
 * @module
 */

import { EAGAIN, errno, errnoMessage, libc, O_CLOEXEC, O_NONBLOCK, O_RDWR } from "./libc.ts";

// linux/if_tun.h
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_MULTI_QUEUE = 0x0100;
const IFNAMSIZ = 16;

/** An open TUN queue. */
export interface Tun {
  /** Interface name the kernel gave it. */
  readonly name: string;
  /** The file descriptor (for poll). */
  readonly fd: number;
  /** Reads one packet into `buf`; returns its length, or 0 when none is waiting. */
  read(buf: Uint8Array): number;
  /** Writes one packet; returns false when the queue is full (the packet is dropped). */
  write(packet: Uint8Array): boolean;
  /** Closes the queue (the device goes away with its last queue). */
  close(): void;
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
  const ifr = new Uint8Array(40); // struct ifreq: name[16], then flags (short)
  ifr.set(enc, 0);
  const flags = IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0);
  ifr[16] = flags & 0xff;
  ifr[17] = flags >> 8;
  if (c.ioctl(fd, BigInt(TUNSETIFF), ifr) < 0) {
    const e = errno();
    c.close(fd);
    throw new Error(`TUNSETIFF ${name}: ${errnoMessage(e)}`);
  }
  const end = ifr.indexOf(0);
  const actual = new TextDecoder().decode(ifr.subarray(0, end < 0 ? IFNAMSIZ : end));
  let open = true;
  return {
    name: actual,
    fd,
    read(buf) {
      const n = Number(c.read(fd, buf, BigInt(buf.length)));
      if (n >= 0) return n;
      const e = errno();
      if (e === EAGAIN) return 0;
      throw new Error(`read ${actual}: ${errnoMessage(e)}`);
    },
    write(packet) {
      const n = Number(c.write(fd, packet, BigInt(packet.length)));
      return n === packet.length;
    },
    close() {
      if (open) c.close(fd);
      open = false;
    },
  };
}
