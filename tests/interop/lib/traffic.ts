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

/**
 * The echo requests of a ping run that got no reply, by icmp_seq (1-based, up to `sent`),
 * read from ping's per-reply lines.
 */
export function missingSeqs(r: PingResult): number[] {
  const got = new Set<number>();
  for (const m of r.output.matchAll(/bytes from .*icmp_seq=(\d+)/g)) got.add(Number(m[1]));
  const out: number[] = [];
  for (let seq = 1; seq <= r.sent; seq++) if (!got.has(seq)) out.push(seq);
  return out;
}

/** Lost echo requests of a timestamped ping run, split by when they were sent. */
export interface LossSplit {
  /** Lost within `windowMs` of one of the instants, per instant. */
  readonly near: number[];
  /** Lost elsewhere (icmp_seq). */
  readonly elsewhere: number[];
}

/**
 * Splits the requests of a `ping -D` run that got no reply by whether they were sent within
 * `windowMs` of one of `instants` (Unix ms). A lost request's send time lies between the
 * replies around it: it is interpolated from their timestamps.
 */
export function lossAround(
  r: PingResult,
  instants: readonly number[],
  windowMs: number,
): LossSplit {
  const at = new Map<number, number>();
  for (const m of r.output.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)/gm)) {
    at.set(Number(m[2]), Number(m[1]) * 1000);
  }
  const seqs = [...at.keys()].sort((a, b) => a - b);
  const near = instants.map(() => 0);
  const elsewhere: number[] = [];
  for (const seq of missingSeqs(r)) {
    const before = seqs.filter((s) => s < seq).at(-1);
    const after = seqs.find((s) => s > seq);
    let t: number | undefined;
    if (before !== undefined && after !== undefined) {
      const a = at.get(before)!, b = at.get(after)!;
      t = a + ((b - a) * (seq - before)) / (after - before);
    } else {t = before !== undefined
        ? at.get(before)!
        : after !== undefined
        ? at.get(after)!
        : undefined;}
    const i = t === undefined ? -1 : instants.findIndex((x) => Math.abs(x - t!) <= windowMs);
    if (i >= 0) near[i]!++;
    else elsewhere.push(seq);
  }
  return { near, elsewhere };
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
  /** Seconds to wait for a reply (`ping -W`, default 2). */
  readonly wait?: number;
  /** Print a Unix timestamp before each reply line (`ping -D`), for {@link lossAround}. */
  readonly timestamps?: boolean;
}

function pingArgv(to: string, opts: PingOptions): string[] {
  const argv = ["ping", "-n", "-c", String(opts.count ?? 3), "-i", String(opts.interval ?? 0.2)];
  argv.push("-W", String(opts.wait ?? 2), "-s", String(opts.size ?? 56));
  if (opts.from !== undefined) argv.push("-I", opts.from);
  if (opts.timestamps === true) argv.push("-D");
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

/**
 * Packets the kernel dropped for full queues in namespaces `ns`: UDP receive/send buffers
 * (`nstat`, history untouched), interface and qdisc drops (a TUN device whose reader lags).
 * This is how a saturating TCP stream meets the slowest hop; by counter, summed.
 */
export async function queueDrops(lab: Lab, ns: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const add = (k: string, n: number) => out.set(k, (out.get(k) ?? 0) + n);
  for (const name of ns) {
    const r = await lab.exec(name, ["nstat", "-asz", "--json"]);
    const k = (JSON.parse(r.stdout) as { kernel?: Record<string, number> }).kernel ?? {};
    add("udp-rcvbuf", k["UdpRcvbufErrors"] ?? 0);
    add("udp-sndbuf", k["UdpSndbufErrors"] ?? 0);
    const links = JSON.parse((await lab.exec(name, ["ip", "-s", "-j", "link"])).stdout) as {
      stats64?: { rx?: { dropped?: number }; tx?: { dropped?: number } };
    }[];
    for (const l of links) {
      add("link-rx", l.stats64?.rx?.dropped ?? 0);
      add("link-tx", l.stats64?.tx?.dropped ?? 0);
    }
    const qdiscs = JSON.parse((await lab.exec(name, ["tc", "-s", "-j", "qdisc"])).stdout) as {
      drops?: number;
    }[];
    for (const q of qdiscs) add("qdisc", q.drops ?? 0);
  }
  return out;
}

/** The counters of {@link queueDrops} that grew from `before` to `after`. */
export function grown(before: Map<string, number>, after: Map<string, number>): string {
  return [...after].filter(([k, v]) => v > (before.get(k) ?? 0))
    .map(([k, v]) => `${k} +${v - (before.get(k) ?? 0)}`).join(", ");
}

/** Echo requests one rekey may lose at 50 per second: those in flight (60 ms on a loaded machine). */
export const REKEY_IN_FLIGHT = 3;

/**
 * Why a ping train (`ping -D`, 20 ms apart) across rekeys at `rekeys` (Unix ms) lost more than
 * packets in flight, or undefined when it did not. Without kernel queue drops (`queues`, see
 * {@link grown}): at most {@link REKEY_IN_FLIGHT} lost within 1 s of each rekey and none
 * elsewhere. With them, a saturating TCP stream fills the slowest hop's queue (a UDP receive
 * buffer, a TUN device's queue; strongSwan's userspace ESP also stalls while it rekeys): that
 * is how TCP finds the path's rate, and echo requests meeting a full queue are lost to the
 * stream, near a rekey or not; a gateway stalled on a loaded 2-core machine drops a few
 * hundred ms at once. Then the total is bounded: the rekeys' share plus 5 %.
 */
export function rekeyLoss(r: PingResult, rekeys: readonly number[], queues: string): {
  readonly summary: string;
  readonly failure?: string;
} {
  const split = lossAround(r, rekeys, 1000);
  const summary = `${r.received}/${r.sent} echo replies; lost around the ${rekeys.length} ` +
    `rekeys ${split.near.join(",")}, elsewhere ${split.elsewhere.length} (missing icmp_seq ` +
    `${missingSeqs(r).join(",")}); kernel queue drops: ${queues || "none"}`;
  const lost = r.sent - r.received;
  const worst = Math.max(0, ...split.near);
  let failure: string | undefined;
  if (queues === "") {
    if (worst > REKEY_IN_FLIGHT) failure = `${worst} echo requests lost around one rekey`;
    else if (split.elsewhere.length > 0) failure = "echo requests lost away from the rekeys";
  } else if (lost > rekeys.length * REKEY_IN_FLIGHT + Math.ceil(r.sent / 20)) {
    failure = `${lost} echo requests lost (congestion allows 5 % besides the rekeys)`;
  }
  return failure === undefined ? { summary } : { summary, failure };
}
