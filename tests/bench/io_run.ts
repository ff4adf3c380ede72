/**
 * The I/O part of `make bench` part 1, run inside a namespace the bench created: the real data
 * path (Worker, TUN device, UDP sockets with recvmmsg/sendmmsg and GSO) under load from
 * io_blast.ts. Encapsulation: IP packets routed into the TUN device leave as ESP-in-UDP;
 * decapsulation: ESP-in-UDP datagrams arrive and their inner packets are written to the TUN
 * device. Rates come from the data path's own counters over a steady window; the data-path
 * thread's CPU time (from /proc) turns them into packets per second per core. The reference is
 * the generator pushing plain UDP datagrams of the same size through loopback.
 * Prints one JSON line.
 */

import { openUdp } from "../../hw/udp.ts";
import { startDataPath } from "../../src/esp/datapath.ts";
import type { EspTransform } from "../../src/esp/sa_spec.ts";
import { benchSpec } from "./io_spec.ts";

const WARMUP_MS = 700;
const WINDOW_MS = 1500;
const blast = new URL("./io_blast.ts", import.meta.url).pathname;

async function ip(...args: string[]): Promise<void> {
  const r = await new Deno.Command("ip", { args, stderr: "piped" }).output();
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

/** CPU seconds (user + system) of each thread of this process. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of Deno.readDirSync("/proc/self/task")) {
    try {
      const stat = Deno.readTextFileSync(`/proc/self/task/${t.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(t.name, (Number(f[11]) + Number(f[12])) / 100); // utime, stime in 1/100 s
    } catch { /* the thread ended */ }
  }
  return out;
}

/** The busiest thread's share of one core between two samples (the packet loop's thread). */
function busiest(a: Map<string, number>, b: Map<string, number>, seconds: number): number {
  let max = 0;
  for (const [tid, cpu] of b) max = Math.max(max, cpu - (a.get(tid) ?? cpu));
  return max / seconds;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await ip("link", "set", "lo", "up");
const dp = await startDataPath({
  tunName: "bgb0",
  mtu: 1400,
  listen: ["127.0.0.1"],
  natPort: 4500,
  rawEsp: false,
  keepaliveSeconds: 0,
  // The main isolate by default; BG_DATAPATH=worker measures the Worker runner.
  runner: Deno.env.get("BG_DATAPATH") === "worker" ? "worker" : "main",
});
await ip("addr", "add", "198.51.100.1/24", "dev", "bgb0");
const sinks = [4501, 4502].map((p) => openUdp(new Uint8Array([127, 0, 0, 1]), p, false));
sinks.push(openUdp(new Uint8Array([198, 51, 100, 1]), 9999, false));

interface Row {
  what: string;
  size: number;
  transform: string;
  generated: number;
  processed: number;
  cpu: number;
}
const rows: Row[] = [];

async function measure(kind: "inner" | "esp" | "plain", size: number, t: EspTransform) {
  const seconds = (WARMUP_MS + WINDOW_MS + 500) / 1000;
  const port = kind === "esp" ? "4500" : "4502"; // the data path, or the plain sink
  const gen = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", blast, kind, String(size), String(seconds), port],
    stdout: "piped",
  }).spawn();
  await sleep(WARMUP_MS);
  const s0 = (await dp.snapshot()).stats;
  const c0 = threadCpu();
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const s1 = (await dp.snapshot()).stats;
  const dt = (performance.now() - t0) / 1000;
  const cpu = busiest(c0, threadCpu(), dt);
  const out = await gen.output();
  const g = JSON.parse(new TextDecoder().decode(out.stdout)) as { sent: number; seconds: number };
  const processed = kind === "inner"
    ? s1.espOut - s0.espOut
    : kind === "esp"
    ? s1.tunOut - s0.tunOut
    : 0;
  rows.push({
    what: kind === "inner" ? "encap" : kind === "esp" ? "decap" : "plain UDP",
    size,
    transform: t.kind === "aead" ? t.alg : `${t.cipher}+${t.mac}`,
    generated: g.sent / g.seconds,
    processed: processed / dt,
    cpu,
  });
}

try {
  const gcm: EspTransform = { kind: "aead", alg: "aes128gcm16" };
  await dp.installSa(benchSpec("out", gcm));
  await dp.installSa(benchSpec("in", gcm));
  await measure("plain", 1400, gcm);
  for (const size of [1400, 64]) {
    await measure("inner", size, gcm);
    await measure("esp", size, gcm);
  }
} finally {
  for (const s of sinks) s.close();
  await dp.stop();
}
console.log(JSON.stringify(rows));
