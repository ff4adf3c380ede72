/**
 * Traffic across a tunnel for the interop suite: ping with its loss counted, and ping trains
 * that run in the background while something (a rekey) happens.
 * @module
 */

import type { Lab, LabProcess } from "./netns.ts";

/** Counts of one ping run. */
export interface PingResult {
  /** Echo requests sent. */
  readonly sent: number;
  /** Replies received. */
  readonly received: number;
  /** ping's full output, for messages. */
  readonly output: string;
}

/** Reads ping's summary line ("N packets transmitted, M received"). */
export function parsePing(output: string): PingResult {
  const m = output.match(/(\d+) packets transmitted, (\d+) received/);
  if (m === null) return { sent: 0, received: 0, output };
  return { sent: Number(m[1]), received: Number(m[2]), output };
}

/** Options for {@link ping}. */
export interface PingOptions {
  /** Echo requests (default 3). */
  readonly count?: number;
  /** Seconds between them (default 0.2). */
  readonly interval?: number;
  /** Payload bytes (default 56). */
  readonly size?: number;
  /** Source address. */
  readonly from?: string;
}

function pingArgv(to: string, opts: PingOptions): string[] {
  const argv = ["ping", "-n", "-c", String(opts.count ?? 3), "-i", String(opts.interval ?? 0.2)];
  argv.push("-W", "2", "-s", String(opts.size ?? 56));
  if (opts.from !== undefined) argv.push("-I", opts.from);
  argv.push(to);
  return argv;
}

/** Pings `to` from namespace `ns` and returns the counts (never throws on loss). */
export async function ping(
  lab: Lab,
  ns: string,
  to: string,
  opts: PingOptions = {},
): Promise<PingResult> {
  const r = await lab.exec(ns, pingArgv(to, opts), { timeoutMs: 60_000 });
  return parsePing(r.stdout);
}

/** A ping train in the background; {@link finish} stops it and returns the counts. */
export interface PingTrain {
  /** Interrupts ping (SIGINT: it prints its summary) and returns its counts. */
  finish(): Promise<PingResult>;
}

/** Starts `ping -i interval` from `ns` to `to`; output goes to a file in the lab directory. */
export function startPingTrain(
  lab: Lab,
  ns: string,
  to: string,
  name: string,
  opts: PingOptions = {},
): PingTrain {
  const logPath = `${lab.dir}/${name}-ping.txt`;
  const proc: LabProcess = lab.spawn(ns, pingArgv(to, { count: 100_000, ...opts }), { logPath });
  return {
    async finish() {
      proc.signal("SIGINT");
      await proc.status;
      return parsePing(await Deno.readTextFile(logPath));
    },
  };
}

/** What one iperf3 TCP run carried. */
export interface TcpRun {
  /** Receiver goodput, bits/s. */
  readonly bps: number;
  /** Goodput per one-second interval at the receiver, bits/s. */
  readonly intervals: readonly number[];
}

interface IperfJson {
  intervals?: { sum: { bits_per_second: number } }[];
  end?: { sum_received?: { bits_per_second: number } };
  error?: string;
}

/**
 * iperf3 TCP, one stream, from host `client` to `serverAddr` (in `serverNs`); `reverse` makes
 * the server send. Starts and stops its own server.
 */
export async function iperfTcp(
  lab: Lab,
  client: { ns: string; address: string },
  server: { ns: string; address: string },
  seconds: number,
  reverse = false,
): Promise<TcpRun> {
  const srv = lab.spawn(server.ns, ["iperf3", "-s", "-1", "-B", server.address]);
  try {
    for (let i = 0; i < 50; i++) {
      const r = await lab.exec(server.ns, ["ss", "-Hltn", "sport = :5201"]);
      if (r.stdout.includes("5201")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const argv = ["iperf3", "-c", server.address, "-B", client.address, "-J", "-i", "1"];
    argv.push("-t", String(seconds), ...(reverse ? ["-R"] : []));
    const r = await lab.exec(client.ns, argv, { timeoutMs: (seconds + 20) * 1000 });
    let j: IperfJson;
    try {
      j = JSON.parse(r.stdout) as IperfJson;
    } catch {
      throw new Error(`iperf3 printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 300)}`);
    }
    const bps = j.end?.sum_received?.bits_per_second;
    if (bps === undefined) throw new Error(`iperf3 failed: ${j.error ?? r.stdout.slice(0, 300)}`);
    return { bps, intervals: (j.intervals ?? []).map((i) => i.sum.bits_per_second) };
  } finally {
    await srv.stop();
  }
}
