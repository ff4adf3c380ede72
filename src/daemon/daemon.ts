/**
 * The daemon assembled: crypto self-test, config store, gateway with its services, control
 * socket and (optionally) the serial console; {@link Daemon.stop} undoes it in reverse order
 * (Deletes to every peer first). `src/cli/run.ts` parses the command line and calls
 * {@link startDaemon}.
 * @module
 */

import { dirname, resolve } from "../path.ts";
import { ConfigStore } from "../config/store.ts";
import { formatIssue } from "../config/issues.ts";
import { loadConfigFile } from "../config/load.ts";
import { DEFAULT_ALGORITHMS, initCrypto } from "../crypto/registry.ts";
import type { OffloadOptions } from "../crypto/cryptodev_calibrate.ts";
import type { Logger } from "../log.ts";
import { VERSION } from "../version.ts";
import { cryptoReport, selftest } from "../crypto/selftest.ts";
import { ControlServer } from "./control_server.ts";
import { Gateway } from "./gateway.ts";
import type { GatewayServices } from "./services.ts";

/** How to start the daemon. */
export interface DaemonOptions {
  /** The config file (seeds the store; see `run --help` for the rule). */
  readonly configFile?: string;
  /** The state dir (store, control socket, confirm state). */
  readonly stateDir: string;
  /** The logger (stderr sink attached by the caller). */
  readonly log: Logger;
  /** Builds the services once crypto is ready. */
  readonly services: () => Promise<GatewayServices>;
  /** Milliseconds per minute of `commit confirmed` (tests shorten it). */
  readonly minuteMs?: number;
  /** Called when the config asks for another log level or syslog. */
  readonly onLogSettings?: (level: "debug" | "info" | "warn" | "error", syslog: boolean) => void;
}

/** Why the daemon refused to start: one line for the operator. */
export class StartError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "StartError";
  }
}

/** A running daemon. */
export interface Daemon {
  /** The gateway (shell host). */
  readonly gateway: Gateway;
  /** The control socket server. */
  readonly control: ControlServer;
  /** Stops everything (Deletes to peers, sockets closed, socket file removed). */
  stop(): Promise<void>;
}

/** Starts the daemon; rejects with a {@link StartError} on a bad config or a failed self-test. */
export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const { log } = o;
  let file: { path: string; text: string } | undefined;
  let offload: OffloadOptions | undefined;
  if (o.configFile !== undefined) {
    const r = loadConfigFile(o.configFile);
    if (!r.ok) {
      const first = r.issues.map((i) => formatIssue(i, o.configFile)).join("; ");
      throw new StartError(`config ${first}`);
    }
    file = { path: o.configFile, text: r.text };
    offload = { mode: r.config.gateway.crypto_offload, device: r.config.gateway.crypto_device };
    for (const p of r.config.peer) if (p.psk !== undefined) log.addSecret(p.psk);
  }
  try {
    Deno.mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(o.stateDir, 0o700);
  } catch (err) {
    throw new StartError(`state dir ${o.stateDir}: ${errText(err)}`);
  }
  // Crypto self-test (RFC-independent known answers): refuse to start on a failed algorithm.
  const registry = await initCrypto(offload === undefined ? {} : { offload });
  const missing = DEFAULT_ALGORITHMS.filter((a) => registry.chosen(a) === undefined);
  if (missing.length > 0) {
    throw new StartError(`crypto self-test failed for ${missing.join(", ")}`);
  }
  log.info("crypto self-test passed", {
    backends: registry.backends.map((b) => b.name).join(","),
  });
  const off = registry.offload;
  if (off !== undefined) {
    log.info("crypto offload", {
      mode: off.options.mode,
      device: off.options.device,
      ...(off.error !== undefined
        ? { unused: off.error }
        : { offloaded: [...off.routes.keys()].join(",") || "none (libcrypto faster)" }),
    });
  }

  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => markReady = r);
  let gateway: Gateway | undefined;
  // The socket is opened first: it is the lock against a second daemon on this state dir.
  const control = await ControlServer.open(o.stateDir, {
    ready,
    get host() {
      if (gateway === undefined) throw new Error("daemon not started");
      return gateway;
    },
    onNotice: (fn) => gateway?.onNotice(fn) ?? (() => false),
  }, log.child("control")).catch((err) => {
    throw new StartError(errText(err));
  });
  try {
    const store = ConfigStore.open(o.stateDir, log.child("store"));
    const services = await o.services();
    gateway = new Gateway({
      store,
      stateDir: o.stateDir,
      baseDir: o.configFile !== undefined ? dirname(resolve(o.configFile)) : o.stateDir,
      log,
      services,
      version: [`branchgate ${VERSION}`, `deno ${Deno.version.deno}`],
      selftest: () => selftest(registry).lines,
      crypto: () => cryptoReport(registry),
      ...(o.minuteMs !== undefined ? { minuteMs: o.minuteMs } : {}),
      ...(o.onLogSettings !== undefined ? { onLogSettings: o.onLogSettings } : {}),
    });
    await gateway.start(file);
  } catch (err) {
    await control.close();
    await gateway?.close().catch(() => undefined);
    throw err instanceof StartError ? err : new StartError(errText(err));
  }
  markReady();
  const gw = gateway;
  log.info("daemon ready", { state_dir: o.stateDir, control: control.path });
  return {
    gateway: gw,
    control,
    async stop() {
      await control.close();
      await gw.close();
    },
  };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
