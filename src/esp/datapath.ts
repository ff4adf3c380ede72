/**
 * The control plane's handle on the data path: starts the packet engine (src/esp/core.ts) in
 * the main isolate (src/esp/inline_link.ts, the default) or in a Worker of its own
 * (src/esp/worker_link.ts, `runner: "worker"`), relays its events, and maintains the routes
 * into the TUN device (src/esp/routes.ts).
 * @module
 */

import {
  DataPathError,
  type DataPathHandle,
  type DataPathOptions,
  type IkePacketHandler,
  type TrapRoute,
} from "./datapath_types.ts";
import type { CoreEvents } from "./core.ts";
import type { DataPathLink } from "./link.ts";
import { netlinkRouteCommands, type RouteCommands, RouteTable } from "./routes.ts";
import type { EspLifetimeEvent, EspSaSpec } from "./sa_spec.ts";
import { checkOptions } from "./worker_io.ts";

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
 * Starts the data path: opens the TUN device and sockets and runs the packet loop. Resolves
 * with the handle once packets can flow; rejects with a {@link DataPathError} (bad options, no
 * TUN device, a port in use) after cleaning up.
 */
export async function startDataPath(
  opts: DataPathOptions,
  extras: StartExtras = {},
): Promise<DataPathHandle> {
  checkOptions(opts);
  let lifetimeCb: (e: EspLifetimeEvent) => void = () => {};
  let ikeCb: IkePacketHandler = () => {};
  let missedCb: (dsts: string[]) => void = () => {};
  let trapKeys: number[] = [];
  const warn = extras.onWarning ?? (() => {});
  const manage = opts.manageRoutes !== false && opts.packetFd === undefined;
  let routes: RouteTable | undefined;
  const events: CoreEvents = {
    ike: (data, local, remote) => ikeCb(data, local, remote),
    missed: (dsts) => missedCb(dsts),
    lifetime(event) {
      if (event.kind === "hard" && event.direction === "out" && routes !== undefined) {
        routes.removeSa(event.spi).then((w) => w.forEach(warn));
      }
      lifetimeCb(event);
    },
  };
  let link: DataPathLink;
  try {
    if (opts.runner === "worker") {
      const { startWorkerLink } = await import("./worker_link.ts");
      link = await startWorkerLink(opts, events, warn);
    } else {
      const { startInlineLink } = await import("./inline_link.ts");
      link = await startInlineLink(opts, events, warn);
    }
  } catch (e) {
    throw e instanceof DataPathError
      ? e
      : new DataPathError(e instanceof Error ? e.message : String(e));
  }
  if (manage) routes = new RouteTable(link.tunName, extras.routeCommands ?? netlinkRouteCommands());
  const l = link;
  return {
    endpoints: l.endpoints,
    ikeEndpoints: l.ikeEndpoints,
    tunName: l.tunName,
    async installSa(spec: EspSaSpec) {
      await l.install(spec);
      if (routes !== undefined && spec.direction === "out") {
        (await routes.addSa(spec)).forEach(warn);
      }
    },
    async deleteSa(spi: number, direction: "in" | "out") {
      const removed = await l.remove(spi, direction);
      if (removed && direction === "out" && routes !== undefined) {
        (await routes.removeSa(spi)).forEach(warn);
      }
      return removed;
    },
    counters: () => l.sas(),
    stats: () => l.stats(),
    cryptoRoutes: () => l.crypto(),
    async snapshot() {
      await l.refresh();
      return { sas: l.sas(), stats: l.stats() };
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
      await l.setTraps(traps);
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
    sendIke(datagram, local, remote) {
      l.sendIke(datagram, local, remote);
    },
    async stop() {
      if (routes !== undefined) (await routes.clear()).forEach(warn);
      await l.stop();
    },
  };
}
