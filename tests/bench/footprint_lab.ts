/**
 * The lab of `make bench-memory` and `make bench-ike` (root; IKEv1 or IKEv2): the {@link TwoSites} topology
 * with the gateway under test on side A (branchgate as the image ships it, or strongSwan's
 * charon) as the responder, and one strongSwan charon on side B initiating up to `tunnels`
 * IKE SAs: tunnel 0 joins the two LANs from 192.0.2.2, tunnel i ≥ 1 joins
 * 198.51.100.(100+i)/32 and 203.0.113.(100+i)/32 from its own address 192.0.2.(100+i).
 * The gateways' cost is read from outside, from /proc/PID (RSS, CPU ticks).
 * @module
 */

import { BranchgateDaemon } from "../interop/lib/branchgate.ts";
import type { BgPeer } from "../interop/lib/branchgate_conf.ts";
import type { Lab } from "../interop/lib/netns.ts";
import { StrongswanPeer } from "../interop/lib/strongswan.ts";
import type { SwanConnection, SwanPsk } from "../interop/lib/swanctl_conf.ts";
import { LAN_IF, OUTER_IF, type TwoSites } from "../interop/lib/topology.ts";

const REPO = new URL("../../", import.meta.url).pathname;
/** The x86_64 image's launcher (`make image`). */
export const IMAGE_LAUNCHER = `${REPO}build/image-x86_64/current/bin/branchgate`;

/** Which implementation answers on side A. */
export type Responder = "branchgate" | "strongswan";

/** Algorithms of every tunnel (strongSwan syntax). */
export const IKE_PROPOSAL = "aes256-sha256-modp2048";
/** ESP proposal of every tunnel. */
export const ESP_PROPOSAL = "aes128gcm16";
const PSK = "bench-only-psk-0";
/** Most tunnels the address plan allows. */
export const MAX_TUNNELS = 100;

/** One tunnel's addresses and selectors. */
interface TunnelPlan {
  readonly name: string;
  readonly child: string;
  readonly bAddress: string;
  readonly aLan: string;
  readonly bLan: string;
}

function plan(sites: TwoSites, i: number): TunnelPlan {
  if (i === 0) {
    return {
      name: "site",
      child: "lan",
      bAddress: sites.b.outerAddress,
      aLan: sites.a.lan,
      bLan: sites.b.lan,
    };
  }
  return {
    name: `t${i}`,
    child: `c${i}`,
    bAddress: `192.0.2.${100 + i}`,
    aLan: `198.51.100.${100 + i}/32`,
    bLan: `203.0.113.${100 + i}/32`,
  };
}

function connection(
  version: 1 | 2,
  me: string,
  peer: string,
  local: string,
  remote: string,
  t: TunnelPlan,
): SwanConnection {
  return {
    name: t.name,
    version,
    localAddrs: [me],
    remoteAddrs: [peer],
    proposals: [IKE_PROPOSAL],
    encap: true,
    localId: me,
    remoteId: peer,
    children: [{
      name: t.child,
      localTs: [local],
      remoteTs: [remote],
      espProposals: [ESP_PROPOSAL],
    }],
  };
}

/** A running responder (side A) and initiator (side B) with `tunnels` tunnels configured. */
export interface FootprintLab {
  /** Side A's implementation. */
  readonly responder: Responder;
  /** PID whose /proc entry is side A's whole cost (all its threads). */
  readonly pid: number;
  /** The initiator. */
  readonly initiator: StrongswanPeer;
  /** Names (IKE, child) of the configured tunnels, tunnel 0 first. */
  readonly tunnels: readonly { readonly ike: string; readonly child: string }[];
  /** The branchgate daemon, when side A is branchgate. */
  readonly daemon?: BranchgateDaemon;
}

/** Starts side A as `responder` and side B's initiator, both with `tunnels` tunnels configured. */
export async function startFootprintLab(
  lab: Lab,
  sites: TwoSites,
  responder: Responder,
  tunnels: number,
  version: 1 | 2 = 1,
): Promise<FootprintLab> {
  if (!Number.isInteger(tunnels) || tunnels < 1 || tunnels > MAX_TUNNELS) {
    throw new RangeError(`tunnels must be 1..${MAX_TUNNELS}`);
  }
  const plans = Array.from({ length: tunnels }, (_, i) => plan(sites, i));
  // Each extra tunnel: its own outer address on B, and each gateway owns an address inside its
  // /32 selector (strongSwan installs the tunnel's route with a source address from it).
  for (const t of plans.slice(1)) {
    await lab.mustExec(sites.b.gw, ["ip", "addr", "add", `${t.bAddress}/24`, "dev", OUTER_IF]);
    await lab.mustExec(sites.b.gw, ["ip", "addr", "add", t.bLan, "dev", LAN_IF]);
    await lab.mustExec(sites.a.gw, ["ip", "addr", "add", t.aLan, "dev", LAN_IF]);
  }
  const aAddr = sites.a.outerAddress;
  const secrets: SwanPsk[] = [{
    name: "bench",
    ids: [aAddr, ...plans.map((t) => t.bAddress)],
    secret: PSK,
  }];
  let pid: number;
  let daemon: BranchgateDaemon | undefined;
  if (responder === "strongswan") {
    const a = await StrongswanPeer.start(lab, {
      name: "a",
      ns: sites.a.gw,
      config: {
        connections: plans.map((t) => connection(version, aAddr, t.bAddress, t.aLan, t.bLan, t)),
        secrets,
      },
    });
    pid = a.pid;
  } else {
    const source = Deno.env.get("BENCH_SOURCE") === "1";
    if (!source) await Deno.stat(IMAGE_LAUNCHER); // NotFound: run `make image` first
    const peers: BgPeer[] = plans.map((t) => ({
      name: t.name,
      remote: t.bAddress,
      ikeVersion: version,
      psk: PSK,
      ikeProposals: [IKE_PROPOSAL],
      espProposals: [ESP_PROPOSAL],
      localTs: [t.aLan],
      remoteTs: [t.bLan],
      encap: true,
    }));
    daemon = await BranchgateDaemon.start(lab, {
      name: "bg",
      ns: sites.a.gw,
      config: { listen: [aAddr], logLevel: "info", peers },
      ...(source ? {} : { command: [IMAGE_LAUNCHER] }),
    });
    pid = daemon.pid;
  }
  const initiator = await StrongswanPeer.start(lab, {
    name: "b",
    ns: sites.b.gw,
    config: {
      connections: plans.map((t) => connection(version, t.bAddress, aAddr, t.bLan, t.aLan, t)),
      secrets,
    },
  });
  return {
    responder,
    pid,
    initiator,
    tunnels: plans.map((t) => ({ ike: t.name, child: t.child })),
    ...(daemon === undefined ? {} : { daemon }),
  };
}

/** The responders a benchmark's first argument names ("both" when absent); [] when unknown. */
export function respondersFrom(arg: string | undefined): Responder[] {
  const which = arg ?? "both";
  if (which === "both") return ["strongswan", "branchgate"];
  return which === "branchgate" || which === "strongswan" ? [which] : [];
}

/** One reading of a process from /proc. */
export interface ProcSample {
  /** Resident set size, KiB (VmRSS: every thread of the process). */
  readonly rssKiB: number;
  /** User + system CPU time, seconds (every thread). */
  readonly cpuSeconds: number;
}

let clockTicks: number | undefined;

async function ticksPerSecond(): Promise<number> {
  if (clockTicks === undefined) {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** RSS and CPU time of `pid` (proc(5): /proc/PID/status VmRSS, /proc/PID/stat fields 14–15). */
export async function sampleProcess(pid: number): Promise<ProcSample> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (rss === null || !Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot read /proc/${pid}`);
  }
  return { rssKiB: Number(rss[1]), cpuSeconds: (utime + stime) / await ticksPerSecond() };
}

/** CPU seconds per thread name of `pid` (/proc/PID/task/TID/stat; same names summed). */
export async function threadCpu(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const hz = await ticksPerSecond();
  for await (const t of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/task/${t.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / hz);
    } catch {
      // the thread ended while we read
    }
  }
  return out;
}

/**
 * RSS of `pid` once it has settled: sampled every 250 ms until three samples in a row are
 * within 256 KiB of each other (or `maxMs` passed), returning the last one.
 */
export async function settledRss(pid: number, maxMs = 8_000): Promise<number> {
  const seen: number[] = [];
  const end = Date.now() + maxMs;
  while (true) {
    seen.push((await sampleProcess(pid)).rssKiB);
    const last = seen.slice(-3);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) <= 256) return last[2]!;
    if (Date.now() > end) return seen.at(-1)!;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Brings up tunnels `from`…`to-1` from the initiator, `parallel` at a time. */
export async function initiateTunnels(
  lab: FootprintLab,
  from: number,
  to: number,
  parallel = 4,
): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const t = lab.tunnels[next++]!;
      await lab.initiator.initiate(t.child);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** KiB → MiB with one decimal. */
export function mib(kib: number): string {
  return (kib / 1024).toFixed(1);
}
