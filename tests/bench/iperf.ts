/**
 * iperf3 between the two inner networks through a site-to-site tunnel (root): host A
 * (198.51.100.10) behind the gateway under test, host B (203.0.113.10) behind a strongSwan
 * gateway. The gateway under test is strongSwan (the baseline: both sides kernel-libipsec,
 * ESP in UDP) or branchgate (the real daemon as responder); "pair" runs branchgate on both
 * gateways, each with its own IKEv1 (A dials B), "pair-v2" the same over IKEv2. TCP: one stream, 10 s; UDP: unlimited rate
 * with 1300-byte datagrams, 5 s, what arrived. Run alone:
 *
 * ```sh
 * deno run --allow-all tests/bench/iperf.ts [strongswan|branchgate|pair|pair-v2|both|all]
 * ```
 * @module
 */

import { withLab } from "../interop/lib/netns.ts";
import { twoSites } from "../interop/lib/topology.ts";
import { bringUpTunnel, type GatewaySide } from "../interop/lib/tunnel.ts";
import type { Lab } from "../interop/lib/netns.ts";
import type { TwoSites } from "../interop/lib/topology.ts";
import { bringUpPair } from "../interop/lib/bg_pair.ts";

/**
 * What stands on the gateways: strongSwan ↔ strongSwan, branchgate ↔ strongSwan, or a pair of
 * branchgates over IKEv1 ("pair") or IKEv2 ("pair-v2").
 */
export type BenchSide = GatewaySide | "pair" | "pair-v2";

/** Durations and the ESP proposal of one measurement. */
export interface IperfOptions {
  /** TCP run, seconds (default 10). */
  readonly tcpSeconds?: number;
  /** UDP run, seconds (default 5). */
  readonly udpSeconds?: number;
  /** ESP proposal (default aes128gcm16). */
  readonly esp?: string;
}

/** What one tunnel carried. */
export interface IperfResult {
  /** The gateway under test. */
  readonly side: BenchSide;
  /** TCP goodput at the receiver, bits/s. */
  readonly tcpBps: number;
  /** TCP retransmissions at the sender. */
  readonly tcpRetransmits: number;
  /** UDP throughput that arrived, bits/s. */
  readonly udpBps: number;
  /** UDP datagrams lost, percent. */
  readonly udpLossPercent: number;
}

interface TcpJson {
  end: { sum_received: { bits_per_second: number }; sum_sent: { retransmits?: number } };
}
interface UdpJson {
  end: { sum_received: { bits_per_second: number; lost_percent: number } };
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${what}: iperf3 printed no JSON: ${text.slice(0, 300)}`);
  }
}

/** Runs the TCP and UDP measurements between the hosts of an established tunnel. */
export async function measure(
  lab: Lab,
  sites: TwoSites,
  opts: IperfOptions = {},
): Promise<Omit<IperfResult, "side">> {
  const server = lab.spawn(sites.b.host, ["iperf3", "-s", "-B", sites.b.hostAddress]);
  try {
    // Wait for the server's listening socket.
    for (let i = 0; i < 50; i++) {
      const r = await lab.exec(sites.b.host, ["ss", "-Hltn", "sport = :5201"]);
      if (r.stdout.includes("5201")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const client = ["iperf3", "-c", sites.b.hostAddress, "-B", sites.a.hostAddress, "-J"];
    const tcpSeconds = opts.tcpSeconds ?? 10;
    const udpSeconds = opts.udpSeconds ?? 5;
    const tcp = parseJson<TcpJson>(
      await lab.mustExec(sites.a.host, [...client, "-t", String(tcpSeconds)], {
        timeoutMs: (tcpSeconds + 20) * 1000,
      }),
      "tcp",
    );
    const udp = parseJson<UdpJson>(
      await lab.mustExec(
        sites.a.host,
        [...client, "-u", "-b", "0", "-l", "1300", "-t", String(udpSeconds)],
        { timeoutMs: (udpSeconds + 20) * 1000 },
      ),
      "udp",
    );
    // iperf3 3.12: sum_received is the server's view (what arrived, datagrams lost).
    return {
      tcpBps: tcp.end.sum_received.bits_per_second,
      tcpRetransmits: tcp.end.sum_sent.retransmits ?? 0,
      udpBps: udp.end.sum_received.bits_per_second,
      udpLossPercent: udp.end.sum_received.lost_percent,
    };
  } finally {
    await server.stop();
  }
}

/** Builds a fresh lab, brings up a tunnel with `side` as gateway A, measures, tears down. */
export function iperfThroughTunnel(
  side: BenchSide,
  opts: IperfOptions = {},
): Promise<IperfResult> {
  return withLab(async (lab) => {
    const sites = await twoSites(lab);
    const esp = opts.esp === undefined ? {} : { esp: opts.esp };
    if (side === "pair" || side === "pair-v2") {
      const peer = { ikeVersion: side === "pair" ? 1 : 2 } as const;
      await bringUpPair(lab, sites, { psk: "bench-only-psk-0", peer, ...esp });
    } else await bringUpTunnel(lab, sites, side, { psk: "bench-only-psk-0", ...esp });
    return { side, ...await measure(lab, sites, opts) };
  });
}

const mbit = (bps: number) => `${(bps / 1e6).toFixed(0)} Mbit/s`;

/** One line per result plus the ratios against the strongSwan baseline when both ran. */
export function formatResults(results: readonly IperfResult[]): string {
  const lines = results.map((r) =>
    `${r.side.padEnd(10)} TCP ${mbit(r.tcpBps).padStart(13)} (${r.tcpRetransmits} retr)   ` +
    `UDP ${mbit(r.udpBps).padStart(13)} arrived (${r.udpLossPercent.toFixed(1)}% lost)`
  );
  const base = results.find((r) => r.side === "strongswan");
  const names: Record<string, string> = {
    branchgate: "branchgate/strongSwan",
    pair: "branchgate↔branchgate (IKEv1) / strongSwan↔strongSwan",
    "pair-v2": "branchgate↔branchgate (IKEv2) / strongSwan↔strongSwan",
  };
  for (const r of results) {
    if (base === undefined || r.side === "strongswan") continue;
    lines.push(
      `ratio ${names[r.side]}: TCP ${(r.tcpBps / base.tcpBps).toFixed(2)}, ` +
        `UDP ${(r.udpBps / base.udpBps).toFixed(2)}`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const which = Deno.args[0] ?? "strongswan";
  const sides: BenchSide[] = which === "both"
    ? ["strongswan", "branchgate"]
    : which === "all"
    ? ["strongswan", "branchgate", "pair", "pair-v2"]
    : which === "strongswan" || which === "branchgate" || which === "pair" || which === "pair-v2"
    ? [which]
    : [];
  if (sides.length === 0 || Deno.uid() !== 0) {
    console.error("usage (root): iperf.ts [strongswan|branchgate|pair|pair-v2|both|all]");
    Deno.exit(2);
  }
  const results: IperfResult[] = [];
  for (const side of sides) {
    try {
      results.push(await iperfThroughTunnel(side));
    } catch (err) {
      console.error(`${side}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  console.log(formatResults(results));
  Deno.exit(results.length === sides.length ? 0 : 1);
}
