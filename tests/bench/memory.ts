/**
 * `make bench-memory` (root, after `make image`): resident memory of the responder gateway, read
 * from /proc/PID/status outside the process, for branchgate as the image ships it (its
 * launcher; `BENCH_SOURCE=1` runs src/main.ts instead) and for strongSwan's charon, in the same
 * run, in the lab of footprint_lab.ts:
 * - one peer configured: idle, tunnel up, after TCP through the tunnel, after a junk flood
 *   (FLOOD datagrams, default 150,000, on each of UDP 500 and 4500);
 * - 100 peers configured: one tunnel up, then 50, then 100 IKE SAs up; the cost per extra
 *   tunnel from 1 to 100, and over the second half alone (without the one-time JIT warm-up).
 *
 * Usage: `deno run --allow-all tests/bench/memory.ts [branchgate|strongswan|both] [TUNNELS]`
 * @module
 */

import { withLab } from "../interop/lib/netns.ts";
import type { Lab } from "../interop/lib/netns.ts";
import { type TwoSites, twoSites } from "../interop/lib/topology.ts";
import {
  initiateTunnels,
  MAX_TUNNELS,
  mib,
  type Responder,
  respondersFrom,
  settledRss,
  startFootprintLab,
} from "./footprint_lab.ts";

const FLOOD = Number(Deno.env.get("FLOOD") ?? 150_000);
const TCP_SECONDS = 5;

/** Figures of one responder, KiB. */
interface Figures {
  idle: number;
  tunnel: number;
  traffic: number;
  flood: number;
  many1: number;
  manyHalf: number;
  manyN: number;
  tunnels: number;
  tcpMbit: number;
}

async function tcpThrough(lab: Lab, sites: TwoSites): Promise<number> {
  const server = lab.spawn(sites.b.host, ["iperf3", "-s", "-B", sites.b.hostAddress]);
  try {
    for (let i = 0; i < 100; i++) {
      const r = await lab.exec(sites.b.host, ["ss", "-Hltn", "sport = :5201"]);
      if (r.stdout.includes("5201")) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const out = await lab.mustExec(sites.a.host, [
      "iperf3",
      "-c",
      sites.b.hostAddress,
      "-B",
      sites.a.hostAddress,
      "-t",
      String(TCP_SECONDS),
      "-J",
    ], { timeoutMs: (TCP_SECONDS + 30) * 1000 });
    const json = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
    return json.end.sum_received.bits_per_second / 1e6;
  } finally {
    await server.stop();
  }
}

async function flood(lab: Lab, sites: TwoSites, port: number): Promise<void> {
  const script = new URL("./flood.ts", import.meta.url).pathname;
  await lab.mustExec(sites.b.gw, [
    Deno.execPath(),
    "run",
    "--allow-all",
    script,
    sites.a.outerAddress,
    String(port),
    String(FLOOD),
    String(port),
  ], { timeoutMs: 180_000 });
}

async function onePeer(
  responder: Responder,
): Promise<Omit<Figures, "many1" | "manyHalf" | "manyN" | "tunnels">> {
  return await withLab(async (lab) => {
    const sites = await twoSites(lab);
    const l = await startFootprintLab(lab, sites, responder, 1);
    const idle = await settledRss(l.pid);
    await initiateTunnels(l, 0, 1);
    const tunnel = await settledRss(l.pid);
    const tcpMbit = await tcpThrough(lab, sites);
    const traffic = await settledRss(l.pid);
    await flood(lab, sites, 500);
    await flood(lab, sites, 4500);
    const after = await settledRss(l.pid);
    return { idle, tunnel, traffic, flood: after, tcpMbit };
  });
}

async function manyPeers(
  responder: Responder,
  tunnels: number,
): Promise<{ many1: number; manyHalf: number; manyN: number }> {
  return await withLab(async (lab) => {
    const sites = await twoSites(lab);
    const l = await startFootprintLab(lab, sites, responder, tunnels);
    await initiateTunnels(l, 0, 1);
    const many1 = await settledRss(l.pid);
    const half = Math.ceil(tunnels / 2);
    await initiateTunnels(l, 1, half);
    const manyHalf = await settledRss(l.pid);
    await initiateTunnels(l, half, tunnels);
    const manyN = await settledRss(l.pid);
    return { many1, manyHalf, manyN };
  });
}

function report(rows: Map<Responder, Figures>): string {
  const lines = [
    `RSS MiB (VmRSS of the responder process; flood: ${FLOOD} junk datagrams on UDP 500 and ` +
    `on 4500; traffic: ${TCP_SECONDS} s iperf3 TCP)`,
    "responder    idle  1 tunnel  after TCP  after flood | 100 peers: 1 up  N up  KiB/extra tunnel" +
    "  (2nd half)",
  ];
  for (const [who, f] of rows) {
    const per = (f.manyN - f.many1) / (f.tunnels - 1);
    // The second half alone: code compiled while the first tunnels came up is not counted.
    const late = (f.manyN - f.manyHalf) / (f.tunnels - Math.ceil(f.tunnels / 2));
    lines.push(
      `${who.padEnd(10)} ${mib(f.idle).padStart(6)} ${mib(f.tunnel).padStart(9)} ` +
        `${mib(f.traffic).padStart(10)} ${mib(f.flood).padStart(12)} | ` +
        `${mib(f.many1).padStart(15)} ${mib(f.manyN).padStart(5)} ${per.toFixed(1).padStart(17)} ${
          late.toFixed(1).padStart(11)
        }` +
        `   (TCP ${f.tcpMbit.toFixed(0)} Mbit/s, N=${f.tunnels})`,
    );
  }
  const bg = rows.get("branchgate");
  const sw = rows.get("strongswan");
  if (bg !== undefined && sw !== undefined) {
    lines.push(
      `ratio branchgate/strongSwan: idle ${(bg.idle / sw.idle).toFixed(1)}, ` +
        `after TCP ${(bg.traffic / sw.traffic).toFixed(1)}`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const sides = respondersFrom(Deno.args[0]);
  const tunnels = Number(Deno.args[1] ?? MAX_TUNNELS);
  if (sides.length === 0 || Deno.uid() !== 0 || !(tunnels >= 2 && tunnels <= MAX_TUNNELS)) {
    console.error(`usage (root): memory.ts [branchgate|strongswan|both] [2..${MAX_TUNNELS}]`);
    Deno.exit(2);
  }
  const rows = new Map<Responder, Figures>();
  for (const side of sides) {
    const one = await onePeer(side);
    const many = await manyPeers(side, tunnels);
    rows.set(side, { ...one, ...many, tunnels });
    console.error(`${side}: done`);
  }
  console.log(report(rows));
}
