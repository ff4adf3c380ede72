/**
 * The data-path Worker: owns the TUN queue, the NAT-T UDP sockets and the raw ESP sockets, and
 * runs the packet loop — up to one batch per ready fd with synchronous FFI calls on
 * non-blocking fds, then one `poll()` over all of them and the control eventfd. Control
 * messages (src/esp/worker_protocol.ts) are taken from the event loop only when the eventfd
 * says some are waiting, so the loop never pays for timers.
 *
 * Started by src/esp/datapath.ts; never imported by anything else.
 * @module
 */

import { drainEventFd } from "../../hw/eventfd.ts";
import { PollSet } from "../../hw/libc.ts";
import { DEFAULT_ALGORITHMS, initCrypto } from "../crypto/registry.ts";
import type { OffloadStatus } from "../crypto/cryptodev_calibrate.ts";
import { routeViews } from "../crypto/cryptodev_offload.ts";
import { formatIp, parseIp } from "../net/addr.ts";
import type { DataPathOptions } from "./datapath_types.ts";
import { IkeSourceLimiter } from "./ike_gate.ts";
import { Pump } from "./pump.ts";
import { SaDatabase } from "./sad.ts";
import { checkOptions, openWorkerIo, type WorkerIo } from "./worker_io.ts";
import { type FromWorker, IKE_IN_FLIGHT_MAX, type ToWorker } from "./worker_protocol.ts";

/** Housekeeping (lifetimes, keepalives, counters to the main thread) at least this often. */
const TICK_MS = 1000;

/** The parts of the Worker global scope used here (typed without the worker lib). */
interface WorkerScope {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
let io: WorkerIo | undefined;
let sad: SaDatabase | undefined;
let pump: Pump | undefined;
let eventFd = -1;
let keepaliveMs = 20_000;
let handled = 0; // control messages taken
let signalled = 0; // eventfd signals seen
let stopId = -1;
let ikePosted = 0; // IKE datagrams posted to the main thread (wraps like ikeTaken)
let ikeTaken: Int32Array = new Int32Array(1);
let offloadRoutes: OffloadStatus["routes"] | undefined; // /dev/crypto, for show crypto

function post(m: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function postCounters(): void {
  if (pump === undefined) return;
  const sas = sad!.counters(performance.now());
  post({ t: "counters", sas, stats: pump.snapshotStats(), crypto: routeViews(offloadRoutes) });
}

/** The algorithms ESP uses: tested at start, the software backend loaded only if one fails. */
const ESP_ALGORITHMS = DEFAULT_ALGORITHMS.filter((a) =>
  a.startsWith("aead:") || a.startsWith("cipher:") || a.startsWith("mac:")
);

async function start(opts: DataPathOptions, fd: number, taken: Int32Array): Promise<void> {
  try {
    checkOptions(opts);
    eventFd = fd;
    ikeTaken = taken;
    keepaliveMs = (opts.keepaliveSeconds ?? 20) * 1000;
    const crypto = await initCrypto({
      needed: ESP_ALGORITHMS,
      ...(opts.crypto !== undefined ? { offload: opts.crypto } : {}),
    });
    offloadRoutes = crypto.offload?.routes;
    io = openWorkerIo(opts);
    sad = new SaDatabase(crypto);
    const sockets = io.sockets;
    pump = new Pump(sad, io.tun, sockets, opts.mtu, (data, index, from, fromPort, to) => {
      const s = sockets[index]!;
      ikePosted = (ikePosted + 1) | 0;
      post({
        t: "ike",
        data,
        local: { address: formatIp(to), port: s.port },
        remote: { address: formatIp(from), port: fromPort },
      }, [data.buffer as ArrayBuffer]);
    });
    const sources = new IkeSourceLimiter();
    pump.ikeGate = (from, offset, length) =>
      ((ikePosted - Atomics.load(ikeTaken, 0)) | 0) < IKE_IN_FLIGHT_MAX &&
      sources.take(from, offset, length, pump!.clock);
  } catch (e) {
    io?.close();
    post({ t: "failed", message: message(e) });
    scope.close();
    return;
  }
  post({
    t: "ready",
    endpoints: io.endpoints,
    ikeEndpoints: io.ikeEndpoints,
    tunName: io.tun.name,
  });
  loop().catch((e) => {
    post({ t: "fatal", message: message(e) });
    io?.close();
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

/** Sends an IKE message from the UDP socket of `local` (exact address, else the wildcard). */
function sendIke(m: Extract<ToWorker, { t: "ike" }>): void {
  const p = pump!;
  const local = parseIp(m.local.address);
  const remote = parseIp(m.remote.address);
  // Plain IKE sockets for their own port (500); the NAT-T sockets otherwise.
  const plain = p.sockets.some((s) => s.kind === "ike" && s.port === m.local.port);
  const kind = plain ? "ike" : "udp";
  const pick = (exact: boolean) =>
    p.sockets.findIndex((s) =>
      s.kind === kind && local !== undefined && s.local.length === local.length &&
      (m.local.port === 0 || s.port === m.local.port) &&
      (exact ? s.local.every((b, i) => b === local[i]) : s.local.every((b) => b === 0))
    );
  let i = pick(true);
  if (i < 0) i = pick(false);
  if (i < 0 || remote === undefined || remote.length !== local!.length) {
    p.stats.sendFailures++;
    return;
  }
  const skip = plain ? 0 : 4; // Non-ESP Marker on the NAT-T port (RFC 3948 §2.2)
  const datagram = new Uint8Array(skip + m.data.length);
  datagram.set(m.data, skip);
  if (p.sockets[i]!.socket.sendTo(datagram, remote, m.remote.port)) p.stats.ikeOut++;
  else p.stats.sendFailures++;
}

function control(m: ToWorker): void {
  handled++; // every message, init included, comes with one eventfd signal
  if (m.t === "init") {
    void start(m.opts, m.eventFd, m.ikeTaken);
    return;
  }
  if (pump === undefined) return;
  const p = pump;
  switch (m.t) {
    case "install":
      reply(m.id, () => p.install(m.spec, performance.now()));
      postCounters();
      break;
    case "delete":
      reply(m.id, () => p.remove(m.spi, m.direction));
      postCounters();
      break;
    case "snapshot":
      postCounters();
      reply(m.id, () => true);
      break;
    case "ike":
      sendIke(m);
      break;
    case "stop":
      stopId = m.id;
      break;
  }
}

scope.onmessage = (e) => control(e.data);

function housekeeping(now: number): void {
  const p = pump!;
  for (const event of p.expire(now)) post({ t: "lifetime", event });
  const missed = p.takeMissed();
  if (missed.length > 0) post({ t: "missed", dsts: missed });
  if (keepaliveMs > 0) p.keepalives(now, keepaliveMs);
  postCounters();
}

async function loop(): Promise<void> {
  const p = pump!;
  const sockets = p.sockets;
  const fds = [io!.tun.fd, ...sockets.map((s) => s.socket.fd), eventFd];
  const poll = new PollSet(fds);
  const evIndex = fds.length - 1;
  const tickMs = keepaliveMs > 0 ? Math.min(TICK_MS, keepaliveMs / 2) : TICK_MS;
  let nextTick = performance.now() + tickMs;
  while (stopId < 0) {
    let now = performance.now();
    const ready = poll.wait(Math.max(0, Math.ceil(nextTick - now)));
    now = performance.now();
    p.clock = now;
    if (ready > 0) {
      if (poll.ready(0)) p.fromTun();
      for (let i = 0; i < sockets.length; i++) if (poll.ready(i + 1)) p.fromSocket(i);
      if (poll.ready(evIndex)) signalled += drainEventFd(eventFd);
    }
    // Control messages wait in the event loop: let it run until each signal's message is in.
    while (handled < signalled && stopId < 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (now >= nextTick) {
      housekeeping(now);
      nextTick = now + tickMs;
    }
  }
  postCounters();
  io!.close();
  post({ t: "result", id: stopId, ok: true, value: true });
  scope.close();
}
