/**
 * The data-path Worker (`datapath = "worker"`): runs the packet engine (src/esp/core.ts) in
 * its own isolate — up to one batch per ready fd with synchronous FFI calls on non-blocking
 * fds, then one `poll()` over all of them and the control eventfd. Control messages
 * (src/esp/worker_protocol.ts) are taken from the event loop only when the eventfd says some
 * are waiting, so the loop never pays for timers.
 *
 * Started by src/esp/worker_link.ts; never imported by anything else.
 * @module
 */

import { drainEventFd } from "../../hw/eventfd.ts";
import { PollSet } from "../../hw/libc.ts";
import { DataPathCore } from "./core.ts";
import type { DataPathOptions } from "./datapath_types.ts";
import { type FromWorker, IKE_IN_FLIGHT_MAX, type ToWorker } from "./worker_protocol.ts";

/** The parts of the Worker global scope used here (typed without the worker lib). */
interface WorkerScope {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
let core: DataPathCore | undefined;
let eventFd = -1;
let handled = 0; // control messages taken
let signalled = 0; // eventfd signals seen
let stopId = -1;
let ikePosted = 0; // IKE datagrams posted to the main thread (wraps like ikeTaken)
let ikeTaken: Int32Array = new Int32Array(1);
/** V8's full collection when the launcher exposes it (`--expose-gc`). */
const gc = (globalThis as { gc?: () => void }).gc;
/** Housekeeping rounds between full collections (about 30 s). */
const COMPACT_TICKS = 30;

function post(m: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function postCounters(): void {
  if (core === undefined) return;
  const { sas, stats } = core.snapshot(performance.now());
  post({ t: "counters", sas, stats, crypto: core.cryptoRoutes() });
}

async function start(opts: DataPathOptions, fd: number, taken: Int32Array): Promise<void> {
  let c: DataPathCore;
  try {
    eventFd = fd;
    ikeTaken = taken;
    c = await DataPathCore.open(opts, {
      ike(data, local, remote) {
        ikePosted = (ikePosted + 1) | 0;
        post({ t: "ike", data, local, remote }, [data.buffer as ArrayBuffer]);
      },
      lifetime: (event) => post({ t: "lifetime", event }),
      missed: (dsts) => post({ t: "missed", dsts }),
    });
    c.admitIke = () => ((ikePosted - Atomics.load(ikeTaken, 0)) | 0) < IKE_IN_FLIGHT_MAX;
  } catch (e) {
    post({ t: "failed", message: message(e) });
    scope.close();
    return;
  }
  core = c;
  gc?.(); // the start-up garbage (known-answer tests, calibration), as the main isolate does
  post({
    t: "ready",
    endpoints: c.io.endpoints,
    ikeEndpoints: c.io.ikeEndpoints,
    tunName: c.io.tun.name,
  });
  loop(c).catch((e) => {
    post({ t: "fatal", message: message(e) });
    c.close();
    scope.close();
  });
}

function reply(id: number, run: () => unknown): void {
  try {
    post({ t: "result", id, ok: true, value: run() });
  } catch (e) {
    post({ t: "result", id, ok: false, message: message(e) });
  }
}

function control(m: ToWorker): void {
  handled++; // every message, init included, comes with one eventfd signal
  if (m.t === "init") {
    void start(m.opts, m.eventFd, m.ikeTaken);
    return;
  }
  if (core === undefined) return;
  const c = core;
  switch (m.t) {
    case "install":
      reply(m.id, () => c.install(m.spec, performance.now()));
      postCounters();
      break;
    case "delete":
      reply(m.id, () => c.remove(m.spi, m.direction));
      postCounters();
      break;
    case "traps":
      reply(m.id, () => c.setTraps(m.traps));
      break;
    case "snapshot":
      postCounters();
      reply(m.id, () => true);
      break;
    case "ike":
      c.sendIke(m.data, m.local, m.remote);
      break;
    case "stop":
      stopId = m.id;
      break;
  }
}

scope.onmessage = (e) => control(e.data);

async function loop(c: DataPathCore): Promise<void> {
  const fds = [...c.fds(), eventFd];
  const poll = new PollSet(fds);
  const evIndex = fds.length - 1;
  const ready = (i: number) => poll.ready(i);
  let nextTick = performance.now() + c.tickMs;
  let ticks = 0;
  while (stopId < 0) {
    let now = performance.now();
    const n = poll.wait(Math.max(0, Math.ceil(nextTick - now)));
    now = performance.now();
    if (n > 0) {
      c.drain(ready, now);
      if (poll.ready(evIndex)) signalled += drainEventFd(eventFd);
    } else c.pump.clock = now;
    // Control messages wait in the event loop: let it run until each signal's message is in.
    while (handled < signalled && stopId < 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (now >= nextTick) {
      c.housekeeping(now);
      postCounters();
      if (++ticks % COMPACT_TICKS === 0) gc?.();
      nextTick = now + c.tickMs;
    }
  }
  postCounters();
  c.close();
  post({ t: "result", id: stopId, ok: true, value: true });
  scope.close();
}
