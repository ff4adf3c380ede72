/**
 * The fds of one data-path Worker: the TUN queue (or a test's packet fd) and the network
 * sockets, opened from `DataPathOptions` and closed together.
 * @module
 */

import { openRawEsp } from "../../hw/raw_ip.ts";
import { openTun, packetDevice, type Tun } from "../../hw/tun.ts";
import { openUdp } from "../../hw/udp.ts";
import { formatIp, parseIp } from "../net/addr.ts";
import { DataPathError, type DataPathOptions, type UdpEndpoint } from "./datapath_types.ts";
import type { PumpSocket } from "./pump.ts";

/** What the Worker runs on. */
export interface WorkerIo {
  /** The TUN queue. */
  readonly tun: Tun;
  /** UDP sockets (one per listen address) then raw ESP sockets (one per family). */
  readonly sockets: PumpSocket[];
  /** The NAT-T UDP sockets' bound endpoints. */
  readonly endpoints: UdpEndpoint[];
  /** The plain IKE sockets' bound endpoints (with `ikePort`). */
  readonly ikeEndpoints: UdpEndpoint[];
  /** Closes everything (a test's packet fd stays open). */
  close(): void;
}

/** Checks the options a Worker is started with; throws a {@link DataPathError}. */
export function checkOptions(o: DataPathOptions): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(o.tunName)) {
    throw new DataPathError(`TUN name must be 1-15 of A-Z a-z 0-9 _ . -: '${o.tunName}'`);
  }
  if (!Number.isInteger(o.mtu) || o.mtu < 576 || o.mtu > 9000) {
    throw new DataPathError(`MTU must be 576..9000, got ${o.mtu}`);
  }
  if (o.listen.length === 0) throw new DataPathError("no listen address");
  for (const a of o.listen) {
    if (parseIp(a) === undefined) throw new DataPathError(`not an IP address: '${a}'`);
  }
  if (!Number.isInteger(o.natPort) || o.natPort < 0 || o.natPort > 65535) {
    throw new DataPathError(`NAT-T port must be 0..65535, got ${o.natPort}`);
  }
  const ip = o.ikePort;
  if (
    ip !== undefined &&
    (!Number.isInteger(ip) || ip < 0 || ip > 65535 || (ip !== 0 && ip === o.natPort))
  ) {
    throw new DataPathError(`IKE port must be 0..65535 and not the NAT-T port, got ${ip}`);
  }
  if (o.runner !== undefined && o.runner !== "main" && o.runner !== "worker") {
    throw new DataPathError(`data path runner must be "main" or "worker", got '${o.runner}'`);
  }
  const k = o.keepaliveSeconds;
  if (k !== undefined && (!Number.isFinite(k) || k < 0 || k > 3600)) {
    throw new DataPathError(`keepalive interval must be 0..3600 seconds, got ${k}`);
  }
}

/** Opens the TUN device (brought up with the MTU unless a test fd is used) and the sockets. */
export function openWorkerIo(o: DataPathOptions): WorkerIo {
  const opened: { close(): void }[] = [];
  const closeAll = () => {
    for (const x of opened.reverse()) x.close();
  };
  try {
    const tun = o.packetFd !== undefined
      ? packetDevice(o.packetFd, o.tunName, undefined, false)
      : openTun(o.tunName);
    opened.push(tun);
    if (o.packetFd === undefined && o.manageRoutes !== false) tun.up(o.mtu);
    const sockets: PumpSocket[] = [];
    const endpoints: UdpEndpoint[] = [];
    const families = new Set<4 | 6>();
    for (const text of o.listen) {
      const local = parseIp(text)!;
      const socket = openUdp(local, o.natPort);
      opened.push(socket);
      sockets.push({ socket, kind: "udp", local, port: socket.port });
      endpoints.push({ address: formatIp(local), port: socket.port });
      families.add(local.length === 16 ? 6 : 4);
    }
    const ikeEndpoints: UdpEndpoint[] = [];
    if (o.ikePort !== undefined) {
      for (const text of o.listen) {
        const local = parseIp(text)!;
        const socket = openUdp(local, o.ikePort, false);
        opened.push(socket);
        sockets.push({ socket, kind: "ike", local, port: socket.port });
        ikeEndpoints.push({ address: formatIp(local), port: socket.port });
      }
    }
    if (o.rawEsp) {
      for (const family of families) {
        const socket = openRawEsp(family);
        opened.push(socket);
        sockets.push({
          socket,
          kind: "raw",
          local: new Uint8Array(family === 6 ? 16 : 4),
          port: 0,
        });
      }
    }
    return { tun, sockets, endpoints, ikeEndpoints, close: closeAll };
  } catch (e) {
    closeAll();
    throw new DataPathError(e instanceof Error ? e.message : String(e));
  }
}
