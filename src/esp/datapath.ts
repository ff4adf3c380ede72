/**
 * The main thread's handle on the data path: starts the Worker (src/esp/worker.ts), forwards
 * control requests to it as plain messages, each followed by an eventfd signal that wakes its
 * `poll`, keeps the latest counters the Worker pushes, and maintains the routes into the TUN
 * device (src/esp/routes.ts).
 * @module
 */

import type { OffloadRouteView } from "../crypto/cryptodev_offload.ts";
import { closeEventFd, createEventFd, signalEventFd } from "../../hw/eventfd.ts";
import {
  DataPathError,
  type DataPathHandle,
  type DataPathOptions,
  type DataPathStats,
  type IkePacketHandler,
  type TrapRoute,
  type UdpEndpoint,
} from "./datapath_types.ts";
import { newStats } from "./pump.ts";
import { netlinkRouteCommands, type RouteCommands, RouteTable } from "./routes.ts";
import type { EspLifetimeEvent, EspSaCounters, EspSaSpec } from "./sa_spec.ts";
import { checkOptions } from "./worker_io.ts";
import type { FromWorker, ToWorker } from "./worker_protocol.ts";

export type { DataPathHandle, DataPathOptions } from "./datapath_types.ts";
export { DataPathError } from "./datapath_types.ts";

/** Extra knobs for tests. */
export interface StartExtras {
  /** Route commands to use instead of rtnetlink (with `manageRoutes`). */
  readonly routeCommands?: RouteCommands;
  /** Called with warnings (routes that could not be set or removed). */
  readonly onWarning?: (message: string) => void;
}

/**
 * Starts the data path: a Worker opens the TUN device and sockets and runs the packet loop.
 * Resolves with the handle once packets can flow; rejects with a {@link DataPathError} (bad
 * options, no TUN device, a port in use) after cleaning up.
 */
export function startDataPath(
  opts: DataPathOptions,
  extras: StartExtras = {},
): Promise<DataPathHandle> {
  try {
    checkOptions(opts);
  } catch (e) {
    return Promise.reject(e);
  }
  const eventFd = createEventFd();
  const ikeTaken = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
  let nextId = 1;
  const pending = new Map<number, { ok(v: unknown): void; fail(e: Error): void }>();
  let sas: EspSaCounters[] = [];
  let stats: DataPathStats = newStats();
  let crypto: OffloadRouteView[] = [];
  let lifetimeCb: (e: EspLifetimeEvent) => void = () => {};
  let ikeCb: IkePacketHandler = () => {};
  let missedCb: (dsts: string[]) => void = () => {};
  let trapKeys: number[] = [];
  let dead: Error | undefined;
  const warn = extras.onWarning ?? (() => {});
  const manage = opts.manageRoutes !== false && opts.packetFd === undefined;
  let routes: RouteTable | undefined;

  const send = (m: ToWorker, transfer: Transferable[] = []) => {
    worker.postMessage(m, transfer);
    signalEventFd(eventFd);
  };
  const request = (make: (id: number) => ToWorker): Promise<unknown> => {
    if (dead !== undefined) return Promise.reject(dead);
    const id = nextId++;
    return new Promise((ok, fail) => {
      pending.set(id, { ok, fail });
      send(make(id));
    });
  };
  const die = (why: Error) => {
    dead ??= why;
    for (const p of pending.values()) p.fail(why);
    pending.clear();
  };
  let closed = false;
  const shutDown = () => {
    if (closed) return;
    closed = true;
    worker.terminate();
    closeEventFd(eventFd);
  };

  return new Promise<DataPathHandle>((resolve, reject) => {
    worker.onerror = (e) => {
      e.preventDefault();
      const err = new DataPathError(`data-path worker failed: ${e.message}`);
      die(err);
      reject(err);
      shutDown();
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      switch (m.t) {
        case "ready":
          if (manage) {
            routes = new RouteTable(m.tunName, extras.routeCommands ?? netlinkRouteCommands());
          }
          resolve(handle(m.endpoints, m.ikeEndpoints, m.tunName));
          break;
        case "failed":
          die(new DataPathError(m.message));
          reject(new DataPathError(m.message));
          shutDown();
          break;
        case "result": {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (m.ok) p?.ok(m.value);
          else p?.fail(new DataPathError(m.message));
          break;
        }
        case "counters":
          sas = m.sas;
          stats = m.stats;
          crypto = m.crypto ?? [];
          break;
        case "missed":
          missedCb(m.dsts);
          break;
        case "lifetime":
          if (m.event.kind === "hard" && m.event.direction === "out" && routes !== undefined) {
            routes.removeSa(m.event.spi).then((w) => w.forEach(warn));
          }
          lifetimeCb(m.event);
          break;
        case "ike":
          try {
            ikeCb(m.data, m.local, m.remote);
          } finally {
            Atomics.add(ikeTaken, 0, 1);
          }
          break;
        case "fatal":
          die(new DataPathError(`data path stopped: ${m.message}`));
          warn(`data path stopped: ${m.message}`);
          shutDown();
          break;
      }
    };
    send({ t: "init", opts, eventFd, ikeTaken });
  });

  function handle(
    endpoints: UdpEndpoint[],
    ikeEndpoints: UdpEndpoint[],
    tunName: string,
  ): DataPathHandle {
    return {
      endpoints,
      ikeEndpoints,
      tunName,
      async installSa(spec: EspSaSpec) {
        await request((id) => ({ t: "install", id, spec }));
        if (routes !== undefined && spec.direction === "out") {
          (await routes.addSa(spec)).forEach(warn);
        }
      },
      async deleteSa(spi: number, direction: "in" | "out") {
        const removed = (await request((id) => ({ t: "delete", id, spi, direction }))) === true;
        if (removed && direction === "out" && routes !== undefined) {
          (await routes.removeSa(spi)).forEach(warn);
        }
        return removed;
      },
      counters: () => sas,
      stats: () => stats,
      cryptoRoutes: () => crypto,
      async snapshot() {
        await request((id) => ({ t: "snapshot", id }));
        return { sas, stats };
      },
      onLifetime(cb) {
        lifetimeCb = cb;
      },
      onIkePacket(cb) {
        ikeCb = cb;
      },
      onMissed(cb) {
        missedCb = cb;
      },
      async setTrapRoutes(traps: readonly TrapRoute[]) {
        if (routes === undefined) return;
        // Trap claims use negative keys in the route table (SPIs are never negative).
        for (const k of trapKeys) (await routes.removeSa(k)).forEach(warn);
        trapKeys = [];
        for (const [i, t] of traps.entries()) {
          const key = -(i + 1);
          trapKeys.push(key);
          (await routes.addClaim(key, t.remote, t.selectors)).forEach(warn);
        }
      },
      sendIke(datagram: Uint8Array, local: UdpEndpoint, remote: UdpEndpoint) {
        if (dead !== undefined) return;
        send({ t: "ike", data: datagram.slice(), local, remote });
      },
      async stop() {
        if (routes !== undefined) (await routes.clear()).forEach(warn);
        if (dead === undefined) {
          await request((id) => ({ t: "stop", id })).catch(() => {});
          die(new DataPathError("data path stopped"));
        }
        shutDown();
      },
    };
  }
}
