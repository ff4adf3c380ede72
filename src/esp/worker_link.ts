/**
 * The data path in its own Worker (`datapath = "worker"`): starts src/esp/worker.ts, forwards
 * requests to it as plain messages, each followed by an eventfd signal that wakes its `poll`,
 * and keeps the latest counters the Worker pushes. Costs a second isolate (about 25 MiB
 * resident) and buys a thread of its own for the packets.
 * @module
 */

import type { OffloadRouteView } from "../crypto/cryptodev_offload.ts";
import { closeEventFd, createEventFd, signalEventFd } from "../../hw/eventfd.ts";
import { DataPathError, type DataPathOptions, type DataPathStats } from "./datapath_types.ts";
import type { CoreEvents } from "./core.ts";
import type { DataPathLink } from "./link.ts";
import { newStats } from "./pump.ts";
import type { EspSaCounters } from "./sa_spec.ts";
import type { FromWorker, ToWorker } from "./worker_protocol.ts";

/** Starts the Worker; resolves once packets can flow. */
export function startWorkerLink(
  opts: DataPathOptions,
  events: CoreEvents,
  warn: (message: string) => void,
): Promise<DataPathLink> {
  const eventFd = createEventFd();
  const ikeTaken = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
  let nextId = 1;
  const pending = new Map<number, { ok(v: unknown): void; fail(e: Error): void }>();
  let sas: EspSaCounters[] = [];
  let stats: DataPathStats = newStats();
  let crypto: OffloadRouteView[] = [];
  let dead: Error | undefined;

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

  return new Promise<DataPathLink>((resolve, reject) => {
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
          resolve({
            endpoints: m.endpoints,
            ikeEndpoints: m.ikeEndpoints,
            tunName: m.tunName,
            install: async (spec) => {
              await request((id) => ({ t: "install", id, spec }));
            },
            remove: async (spi, direction) =>
              (await request((id) => ({ t: "delete", id, spi, direction }))) === true,
            setTraps: async (traps) => {
              await request((id) => ({ t: "traps", id, traps: [...traps] }));
            },
            sas: () => sas,
            stats: () => stats,
            crypto: () => crypto,
            refresh: async () => {
              await request((id) => ({ t: "snapshot", id }));
            },
            sendIke(datagram, local, remote) {
              if (dead !== undefined) return;
              send({ t: "ike", data: datagram.slice(), local, remote });
            },
            async stop() {
              if (dead === undefined) {
                await request((id) => ({ t: "stop", id })).catch(() => {});
                die(new DataPathError("data path stopped"));
              }
              shutDown();
            },
          });
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
          events.missed(m.dsts);
          break;
        case "lifetime":
          events.lifetime(m.event);
          break;
        case "ike":
          try {
            events.ike(m.data, m.local, m.remote);
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
}
