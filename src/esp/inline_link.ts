/**
 * The data path in the main isolate (`datapath = "main"`, the default): no second isolate.
 * The packet loop drains the non-blocking fds synchronously, a batch per ready fd per round,
 * as the Worker does. While packets flow it also waits synchronously, and lets the event loop
 * (IKE, timers, the shell) run one pass every {@link YIELD_MS}; once idle for {@link HOT_MS} it sleeps
 * in a `poll` that runs on a thread of Deno's pool (hw/libc.ts `PollSet.waitAsync`), so the
 * control plane runs meanwhile and an idle gateway spends no CPU. Requests are plain calls into the engine; an eventfd wakes the
 * sleeping poll when the data path stops.
 * @module
 */

import { closeEventFd, createEventFd, drainEventFd, signalEventFd } from "../../hw/eventfd.ts";
import { PollSet } from "../../hw/libc.ts";
import { type CoreEvents, DataPathCore } from "./core.ts";
import { DataPathError, type DataPathOptions } from "./datapath_types.ts";
import type { DataPathLink } from "./link.ts";

/**
 * While packets flow, the loop drains and waits synchronously and lets the event loop run
 * (one `poll` on a pool thread) at least this often, ms: the control plane's latency bound.
 */
export const YIELD_MS = 2;
/** Packets within this many ms keep the loop in its synchronous mode. */
export const HOT_MS = 20;

/**
 * One pass of the event loop for a busy loop: a message to itself over a MessageChannel
 * (a few µs, on this thread), where a `poll` on a pool thread costs tens of µs and, on a busy
 * machine, the wait for that thread to be scheduled.
 */
class EventLoopTurn {
  readonly #channel = new MessageChannel();
  #resolve: () => void = () => {};

  constructor() {
    this.#channel.port1.onmessage = () => this.#resolve();
  }

  /** Resolves once the event loop has run timers and I/O callbacks that were due. */
  pass(): Promise<void> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#channel.port2.postMessage(0);
    });
  }

  /** Closes the channel (it would keep the process alive). */
  close(): void {
    this.#channel.port1.close();
    this.#channel.port2.close();
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Opens the engine in this isolate and starts its loop; resolves once packets can flow. */
export async function startInlineLink(
  opts: DataPathOptions,
  events: CoreEvents,
  warn: (message: string) => void,
): Promise<DataPathLink> {
  // A throwing handler must not stop the packet loop: report it and go on.
  const guarded: CoreEvents = {
    ike(data, local, remote) {
      try {
        events.ike(data, local, remote);
      } catch (e) {
        warn(`IKE datagram handler failed: ${message(e)}`);
      }
    },
    lifetime(event) {
      try {
        events.lifetime(event);
      } catch (e) {
        warn(`lifetime handler failed: ${message(e)}`);
      }
    },
    missed(dsts) {
      try {
        events.missed(dsts);
      } catch (e) {
        warn(`trap handler failed: ${message(e)}`);
      }
    },
  };
  const core = await DataPathCore.open(opts, guarded);
  let wakeFd: number;
  try {
    wakeFd = createEventFd();
  } catch (e) {
    core.close();
    throw new DataPathError(message(e));
  }
  let stopping = false;
  let dead: Error | undefined;
  const loop = async () => {
    const fds = [...core.fds(), wakeFd];
    const poll = new PollSet(fds);
    const wakeIndex = fds.length - 1;
    const ready = (i: number) => poll.ready(i);
    let now = performance.now();
    let nextTick = now + core.tickMs;
    let lastYield = now;
    let lastPacket = -Infinity;
    while (!stopping) {
      now = performance.now();
      let n: number;
      if (now - lastYield >= YIELD_MS) {
        // The control plane's turn: one pass of the event loop (timers, IKE, the shell).
        await turn.pass();
        lastYield = performance.now();
        n = poll.wait(0);
      } else if (now - lastPacket < HOT_MS) {
        // Traffic flows: block here, at most until the control plane's next turn.
        n = poll.wait(Math.min(Math.ceil(YIELD_MS - (now - lastYield)), YIELD_MS));
      } else {
        // Idle: sleep on a pool thread until a packet or housekeeping is due.
        n = await poll.waitAsync(Math.max(0, Math.ceil(nextTick - now)));
        lastYield = performance.now();
      }
      if (stopping) break;
      now = performance.now();
      if (n > 0) {
        // Only traffic keeps the loop hot: an IKE exchange (a few datagrams per setup) would
        // otherwise cost HOT_MS of 2 ms polls and event-loop turns per datagram.
        if (core.drain(ready, now)) lastPacket = now;
        if (poll.ready(wakeIndex)) drainEventFd(wakeFd);
      } else core.pump.clock = now;
      if (now >= nextTick) {
        core.housekeeping(now);
        nextTick = now + core.tickMs;
      }
    }
  };
  const turn = new EventLoopTurn();
  const running = loop().catch((e) => {
    dead = new DataPathError(`data path stopped: ${message(e)}`);
    warn(dead.message);
  });
  const live = () => {
    if (dead !== undefined) throw dead;
  };
  let stopped = false;
  return {
    endpoints: core.io.endpoints,
    ikeEndpoints: core.io.ikeEndpoints,
    tunName: core.io.tun.name,
    install(spec) {
      try {
        live();
        core.install(spec, performance.now());
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e instanceof DataPathError ? e : new DataPathError(message(e)));
      }
    },
    remove(spi, direction) {
      try {
        live();
        return Promise.resolve(core.remove(spi, direction));
      } catch (e) {
        return Promise.reject(e instanceof DataPathError ? e : new DataPathError(message(e)));
      }
    },
    setTraps(traps) {
      try {
        live();
        core.setTraps(traps);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e instanceof DataPathError ? e : new DataPathError(message(e)));
      }
    },
    sas: () => core.snapshot(performance.now()).sas,
    stats: () => core.pump.snapshotStats(),
    crypto: () => core.cryptoRoutes(),
    refresh: () => dead === undefined ? Promise.resolve() : Promise.reject(dead),
    sendIke(datagram, local, remote) {
      if (dead === undefined && !stopping) core.sendIke(datagram, local, remote);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      stopping = true;
      signalEventFd(wakeFd);
      await running;
      turn.close();
      core.close();
      closeEventFd(wakeFd);
    },
  };
}
