/**
 * `branchgate run`: the gateway daemon. Parses the command line, sets up logging, starts the
 * daemon (src/daemon/daemon.ts) and waits for SIGTERM/SIGINT, on which it sends Deletes to every
 * peer, stops and exits 0.
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { Logger, type LogLevel, type LogSink, stderrSink, syslogSink } from "../log.ts";
import { startDaemon, StartError } from "../daemon/daemon.ts";
import { DEFAULT_STATE_DIR } from "../daemon/control_server.ts";
import type { GatewayServices } from "../daemon/services.ts";

const HELP = `usage: branchgate run [--config FILE] [--state-dir DIR] [--console DEVICE]

Runs the gateway: the IKEv1 responder (UDP 500 and the NAT-T port), the ESP data path (TUN
device), the control socket DIR/control.sock (mode 0600) for 'branchgate shell', and with
--console a shell on a serial line (raw, 115200 8N1).

  --config FILE     config file (TOML; 'branchgate config check FILE' validates it)
  --state-dir DIR   config revisions, control socket, commit-confirmed state
                    (default ${DEFAULT_STATE_DIR}, created with mode 0700)
  --console DEVICE  also serve the shell on this serial device (e.g. /dev/ttyS0)
  --no-tun          tests only: the data path reads an internal socket pair instead of a
                    TUN device, so no root is needed and no traffic is forwarded

Which config runs: the config file seeds the store. At start the file is imported as a new
revision only when its content differs from the content imported last; otherwise (and
without --config) the newest good revision in the store runs, so commits made in the shell
survive restarts. To make an edited file authoritative again, change it and restart.

The crypto self-test runs first: the daemon refuses to start when an algorithm it needs has
no backend that passes its known-answer tests. SIGTERM or SIGINT sends Deletes to every
peer, stops the data path and exits 0. Log lines (logfmt) go to stderr, and to syslog when
the config sets gateway.syslog = true.`;

/** Builds the services: the IKE engine (IKEv1 and IKEv2) over the ESP data path. */
async function buildServices(
  log: Logger,
  noTun: boolean,
  configFile: string | undefined,
): Promise<GatewayServices> {
  const { createIkeEngine } = await import("../ike/engine.ts");
  const { IkeServices } = await import("../daemon/ike_services.ts");
  const { startDataPath } = await import("../esp/datapath.ts");
  let packetFd: number | undefined;
  if (noTun) {
    const { openPacketPair } = await import("../../hw/packet_pair.ts");
    packetFd = openPacketPair()[0];
  }
  const espLog = log.child("esp");
  return new IkeServices({
    log,
    createResponder: (policy) => createIkeEngine(policy),
    startDataPath: (opts) => startDataPath(opts, { onWarning: (message) => espLog.warn(message) }),
    rawEsp: !noTun,
    ...(packetFd !== undefined ? { packetFd } : {}),
    ...(configFile !== undefined ? { baseDir: dirname(resolve(configFile)) } : {}),
  });
}

/** Milliseconds between full garbage collections of the daemon's heap. */
const COMPACT_MS = 30_000;

/** `BRANCHGATE_MINUTE_MS` (tests): milliseconds per minute of `commit confirmed`. */
function minuteMs(): number | undefined {
  const v = Deno.env.get("BRANCHGATE_MINUTE_MS");
  if (v === undefined || v === "") return undefined;
  if (!/^[0-9]{1,6}$/.test(v) || Number(v) < 100) {
    throw new StartError("BRANCHGATE_MINUTE_MS must be 100-999999");
  }
  return Number(v);
}

/** Runs the subcommand; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: "string" },
        "state-dir": { type: "string" },
        console: { type: "string" },
        "no-tun": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`branchgate run: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const log = Logger.create({ sinks: [stderrSink()] });
  let syslog: LogSink | undefined;
  const onLogSettings = (level: LogLevel, wantSyslog: boolean) => {
    log.setLevel(level);
    if (wantSyslog && syslog === undefined) {
      try {
        syslog = syslogSink();
        log.addSink(syslog);
      } catch (err) {
        log.warn("syslog unavailable", { error: err instanceof Error ? err.message : "" });
      }
    } else if (!wantSyslog && syslog !== undefined) {
      void log.removeSink(syslog);
      syslog = undefined;
    }
  };
  const stateDir = values["state-dir"] ?? DEFAULT_STATE_DIR;
  let stopSignal: (sig: string) => void = () => {};
  const stopped = new Promise<string>((r) => stopSignal = r);
  let stopping = false;
  const onSignal = (sig: Deno.Signal) => () => {
    if (stopping) {
      log.error("second signal while stopping: exiting at once", { signal: sig });
      Deno.exit(1);
    }
    stopping = true;
    stopSignal(sig);
  };
  const handlers = (["SIGTERM", "SIGINT"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    const minute = minuteMs();
    const daemon = await startDaemon({
      stateDir,
      log,
      services: () => buildServices(log, values["no-tun"] === true, values.config),
      onLogSettings,
      ...(values.config !== undefined ? { configFile: values.config } : {}),
      ...(minute !== undefined ? { minuteMs: minute } : {}),
    });
    // Start-up (self-test, /dev/crypto calibration, config parsing) leaves garbage that V8
    // may keep for long: one full collection now (the launcher's --expose-gc) returns it, and
    // one every COMPACT_MS keeps the heap near its live size (a few ms each on a 10 MiB heap).
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const compact = gc === undefined ? undefined : setInterval(gc, COMPACT_MS);
    let consoleStop: (() => Promise<void>) | undefined;
    if (values.console !== undefined) {
      const { serveConsole } = await import("../daemon/console.ts");
      consoleStop = serveConsole(values.console, daemon.gateway, log.child("console"));
    }
    const sig = await stopped;
    clearInterval(compact);
    log.info("stopping: deleting SAs", { signal: sig });
    await consoleStop?.();
    await daemon.stop();
    log.info("stopped");
    await log.close();
    return 0;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log.error("start failed", { reason: msg });
    console.error(`branchgate run: ${msg}`);
    await log.close();
    return 1;
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}
