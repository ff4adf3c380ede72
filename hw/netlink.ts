/**
 * Routes through an rtnetlink socket (RFC 3549; Linux rtnetlink(7)): RTM_NEWROUTE with
 * NLM_F_CREATE | NLM_F_REPLACE and RTM_DELROUTE for a prefix through a device, each
 * acknowledged by the kernel (NLMSG_ERROR with error 0), instead of a fork+exec of `ip route`
 * per SA. One socket per {@link NetlinkRoutes}, opened on first use; synchronous calls (the
 * kernel answers a route request at once; the wait for the answer is bounded).
 * @module
 */

import { errno, errnoMessage, libc, pollReadable } from "./libc.ts";

// linux/netlink.h, linux/rtnetlink.h
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_REPLACE = 0x100;
const NLM_F_CREATE = 0x400;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3; // what `ip route` sets
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_NOWHERE = 255;
const RTN_UNICAST = 1;
const RTA_DST = 1;
const RTA_OIF = 4;
const AF_INET = 2;
const AF_INET6 = 10;
const NLMSG_HDR = 16;
const RTMSG = 12;
const ANSWER_MS = 2000;

/** A route change the kernel refused, with its errno. */
export class NetlinkError extends Error {
  /** The errno the kernel answered. */
  readonly errno: number;

  /** Builds the error. */
  constructor(message: string, code: number) {
    super(message);
    this.name = "NetlinkError";
    this.errno = code;
  }
}

/** Routes in the main table through one rtnetlink socket. */
export class NetlinkRoutes {
  #fd = -1;
  #seq = 1;
  readonly #answer = new Uint8Array(4096);

  #socket(): number {
    if (this.#fd >= 0) return this.#fd;
    const fd = libc().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw new NetlinkError(`netlink socket: ${errnoMessage(errno())}`, errno());
    return this.#fd = fd;
  }

  /** Adds or replaces the route `address/prefixLength` through device `dev` (`ip route replace`). */
  replace(address: Uint8Array, prefixLength: number, dev: string): void {
    this.#request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, address, prefixLength, dev);
  }

  /** Deletes the route `address/prefixLength` through device `dev` (`ip route del`). */
  remove(address: Uint8Array, prefixLength: number, dev: string): void {
    this.#request(RTM_DELROUTE, 0, address, prefixLength, dev);
  }

  /** Closes the socket (a later call opens a new one). */
  close(): void {
    if (this.#fd >= 0) libc().close(this.#fd);
    this.#fd = -1;
  }

  #request(type: number, flags: number, address: Uint8Array, len: number, dev: string): void {
    const what = `${type === RTM_NEWROUTE ? "add" : "delete"} route via ${dev}`;
    if (address.length !== 4 && address.length !== 16) throw new RangeError(`${what}: bad address`);
    if (!Number.isInteger(len) || len < 0 || len > address.length * 8) {
      throw new RangeError(`${what}: bad prefix length ${len}`);
    }
    const c = libc();
    const ifindex = c.if_nametoindex(new TextEncoder().encode(`${dev}\0`));
    if (ifindex === 0) throw new NetlinkError(`${what}: ${errnoMessage(errno())}`, errno());
    const v6 = address.length === 16;
    const dstAttr = 4 + address.length; // already a multiple of 4
    const total = NLMSG_HDR + RTMSG + dstAttr + 8;
    const msg = new Uint8Array(total);
    const d = new DataView(msg.buffer);
    const seq = this.#seq++;
    d.setUint32(0, total, true);
    d.setUint16(4, type, true);
    d.setUint16(6, NLM_F_REQUEST | NLM_F_ACK | flags, true);
    d.setUint32(8, seq, true);
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
    msg[16] = v6 ? AF_INET6 : AF_INET;
    msg[17] = len;
    msg[20] = RT_TABLE_MAIN;
    if (type === RTM_NEWROUTE) {
      msg[21] = RTPROT_BOOT;
      msg[22] = v6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK; // a device route, as `ip route` makes it
      msg[23] = RTN_UNICAST;
    } else {
      msg[22] = v6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE; // any scope matches
    }
    let at = NLMSG_HDR + RTMSG;
    d.setUint16(at, dstAttr, true);
    d.setUint16(at + 2, RTA_DST, true);
    msg.set(address, at + 4);
    at += dstAttr;
    d.setUint16(at, 8, true);
    d.setUint16(at + 2, RTA_OIF, true);
    d.setUint32(at + 4, ifindex, true);
    const fd = this.#socket();
    const kernel = new Uint8Array(12); // struct sockaddr_nl: the kernel is pid 0
    kernel[0] = AF_NETLINK;
    if (Number(c.sendto(fd, msg, BigInt(total), 0, kernel, kernel.length)) !== total) {
      throw new NetlinkError(`${what}: send: ${errnoMessage(errno())}`, errno());
    }
    this.#ack(fd, seq, what);
  }

  /** Reads answers until the NLMSG_ERROR for `seq`; throws when it carries an error. */
  #ack(fd: number, seq: number, what: string): void {
    const c = libc();
    const buf = this.#answer;
    const d = new DataView(buf.buffer);
    const deadline = Date.now() + ANSWER_MS;
    while (true) {
      const left = deadline - Date.now();
      if (left <= 0 || pollReadable([fd], left).length === 0) {
        this.close(); // a late answer must not be taken for the next request's
        throw new NetlinkError(`${what}: no answer from the kernel`, 0);
      }
      const n = Number(c.recvfrom(fd, buf, BigInt(buf.length), 0, null, null));
      if (n < 0) throw new NetlinkError(`${what}: receive: ${errnoMessage(errno())}`, errno());
      for (let at = 0; at + NLMSG_HDR <= n;) {
        const len = d.getUint32(at, true);
        if (len < NLMSG_HDR || at + len > n) break;
        if (d.getUint16(at + 4, true) === NLMSG_ERROR && d.getUint32(at + 8, true) === seq) {
          if (len < NLMSG_HDR + 4) throw new NetlinkError(`${what}: short answer`, 0);
          const code = -d.getInt32(at + NLMSG_HDR, true);
          if (code === 0) return;
          throw new NetlinkError(`${what}: ${errnoMessage(code)}`, code);
        }
        at += (len + 3) & ~3;
      }
    }
  }
}
