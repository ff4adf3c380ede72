/**
 * `make bench` parts 2 and 3 (root): iperf3 through a tunnel between two network namespaces,
 * strongSwan↔strongSwan (both kernel-libipsec, ESP-in-UDP, AES-GCM-16) against
 * branchgate↔strongSwan in the same run, and branchgate's resident memory.
 *
 * branchgate's side is its data path taking over SAs that strongSwan negotiated (the left
 * charon is killed without a Delete; tests/interop/fixtures/esp_strongswan_lab.ts), so the
 * comparison is ESP implementation against ESP implementation with identical SAs.
 */

import {
  type LabChild,
  parseChildKeys,
  startTakeover,
  SwanLab,
  takeoverSpecs,
} from "../interop/fixtures/esp_strongswan_lab.ts";

const TCP_SECONDS = 10;
const UDP_SECONDS = 5;
const CHILD: LabChild = {
  name: "bench",
  proto: "",
  esp: "aes128gcm16",
  transform: { kind: "aead", alg: "aes128gcm16" },
};

/** One tunnel's iperf3 results in bits per second (receiver side). */
export interface TunnelResult {
  /** TCP, one stream, left → right. */
  readonly tcp: number;
  /** UDP, unlimited rate, left → right: what arrived. */
  readonly udp: number;
  /** UDP datagrams lost, percent. */
  readonly udpLoss: number;
}

/** Parts 2 and 3. */
export interface TunnelBench {
  /** strongSwan↔strongSwan. */
  readonly strongswan: TunnelResult;
  /** branchgate↔strongSwan. */
  readonly branchgate: TunnelResult;
  /** branchgate's RSS in KiB: data path started without SAs, with one tunnel, after the load. */
  readonly rssKiB: { readonly idle: number; readonly tunnel: number; readonly afterLoad: number };
}

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1] ?? NaN);
}

async function iperf(lab: SwanLab): Promise<TunnelResult> {
  const client = ["iperf3", "-c", "203.0.113.1", "-B", "198.51.100.1", "-J"];
  const tcp = JSON.parse(await lab.exec(lab.left, [...client, "-t", String(TCP_SECONDS)])) as {
    end: { sum_received: { bits_per_second: number } };
  };
  const udp = JSON.parse(
    await lab.exec(lab.left, [...client, "-u", "-b", "0", "-l", "1300", "-t", String(UDP_SECONDS)]),
  ) as { end: { sum_received: { bits_per_second: number; lost_percent: number } } };
  return {
    tcp: tcp.end.sum_received.bits_per_second,
    udp: udp.end.sum_received.bits_per_second,
    udpLoss: udp.end.sum_received.lost_percent,
  };
}

/** Runs both tunnels; a string says why it was skipped. */
export async function runTunnelBench(): Promise<TunnelBench | string> {
  if (Deno.uid() !== 0) return "skipped: needs root (network namespaces, charon)";
  const lab = await SwanLab.start([CHILD]);
  try {
    lab.spawn(lab.right, ["iperf3", "-s", "-B", "203.0.113.1"]);
    await lab.initiate(CHILD.name);
    const strongswan = await iperf(lab);

    // Fresh SAs for the takeover (the right side's replay window saw the first ones).
    await lab.swanctl("l", "--terminate", "--child", CHILD.name);
    await lab.initiate(CHILD.name);
    const keys = parseChildKeys(await lab.leftLog(), CHILD.name);
    if (keys === undefined) return "failed: no child keys in the charon log";
    await lab.killLeft();
    const dp = await startTakeover(lab, takeoverSpecs(CHILD, keys));
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssKiB(dp.pid);
    await dp.command("install", "installed");
    await new Promise((r) => setTimeout(r, 1000));
    const tunnel = rssKiB(dp.pid);
    const branchgate = await iperf(lab);
    await new Promise((r) => setTimeout(r, 1000));
    const afterLoad = rssKiB(dp.pid);
    await dp.stop();
    return { strongswan, branchgate, rssKiB: { idle, tunnel, afterLoad } };
  } finally {
    await lab.destroy();
  }
}
