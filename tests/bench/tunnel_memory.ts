/**
 * The per-tunnel memory cost, in one process (no sockets, no routes): one hub engine with N
 * peers configured answers N IKEv1 branch engines (Main Mode + Quick Mode, aes256-sha256-modp2048,
 * ESP aes128gcm16), and the hub's SAs are installed into a data-path SA database with the real
 * crypto registry. After a full GC the V8 heap and RSS are read with N/2 and with N tunnels up;
 * the difference over the second half, per tunnel, is what an extra tunnel costs (the first half
 * pays for code the first setups compile). `PACKETS=1` sends one packet each way per SA first.
 *
 * Usage: `deno run --allow-all --v8-flags=--expose-gc tests/bench/tunnel_memory.ts [N]`
 * (default 100; SNAPSHOT=dir writes a heap snapshot at N, or with SNAPSHOT_AT=half at N/2:
 * one snapshot per process)
 * @module
 */

import * as v from "valibot";
import { Session } from "node:inspector";
import { ConfigSchema } from "../../src/config/schema.ts";
import type { IkeAction, IkePolicy, IkeResponder } from "../../src/ike/actions.ts";
import { createIkeV1Responder } from "../../src/ike/responder.ts";
import { MemoryCredentials } from "../../src/ike/auth/credentials.ts";
import { SaDatabase } from "../../src/esp/sad.ts";
import { getCrypto } from "../../src/crypto/registry.ts";
import { mallocInUse } from "../../hw/malloc_info.ts";

const N = Number(Deno.args[0] ?? 100);
const HUB = "198.51.100.1";
const PSK = "correct horse battery staple";
const IKE = ["aes256-sha256-modp2048"];
const ESP = ["aes128gcm16"];

function branchIp(i: number): string {
  return `192.0.2.${10 + i}`;
}

function policy(gateway: Record<string, unknown>, peers: Record<string, unknown>[]): IkePolicy {
  const config = v.parse(ConfigSchema, { gateway, peer: peers.map((p) => ({ psk: PSK, ...p })) });
  const secrets = new Map<string, Uint8Array>();
  for (const p of config.peer) secrets.set(p.name, new TextEncoder().encode(p.psk!));
  return { config, credentials: new MemoryCredentials(secrets) };
}

const hubPeers = Array.from({ length: N }, (_, i) => ({
  name: `b${i}`,
  remote: branchIp(i),
  ike_proposals: IKE,
  esp_proposals: ESP,
  local_ts: ["10.1.0.0/16"],
  remote_ts: [`10.2.${i}.0/24`],
}));
const hub = createIkeV1Responder(policy({ listen: [HUB] }, hubPeers));
const sad = new SaDatabase(getCrypto());
const now = 1_000_000;

function branch(i: number): IkeResponder {
  return createIkeV1Responder(policy({ listen: [branchIp(i)] }, [{
    name: "hq",
    remote: HUB,
    start_action: "start",
    ike_proposals: IKE,
    esp_proposals: ESP,
    local_ts: [`10.2.${i}.0/24`],
    remote_ts: ["10.1.0.0/16"],
  }]));
}

/** Branch engines, dropped once their tunnel is up (only the hub's memory is measured). */
const branches: (IkeResponder | undefined)[] = [];

/** Carries out `actions` of the hub (`from` undefined) or of branch `from`. */
function run(from: number | undefined, actions: IkeAction[], depth = 0): void {
  for (const a of actions) {
    if (from === undefined && a.kind === "installSa") sad.install(a.spec, now);
  }
  for (const a of actions) {
    if (a.kind !== "send" || depth > 50) continue;
    if (from === undefined) {
      const i = Number(a.remote.address.split(".")[3]) - 10;
      const b = branches[i];
      if (b !== undefined) run(i, b.handle(a.datagram, a.remote, a.local, now), depth + 1);
    } else {
      run(undefined, hub.handle(a.datagram, a.remote, a.local, now), depth + 1);
    }
  }
}

function up(from: number, to: number): void {
  for (let i = from; i < to; i++) {
    branches[i] = branch(i);
    run(i, branches[i]!.initiate!("hq", HUB, now));
    branches[i] = undefined;
  }
  const size = sad.size;
  if (size.in !== to || size.out !== to) {
    throw new Error(`expected ${to} SAs each way, have ${size.in}/${size.out}`);
  }
}

/** Heap used, V8 external memory, RSS and malloc's bytes in use after full GCs. */
function settled(): { heap: number; rss: number; external: number; malloc: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  for (let i = 0; i < 3; i++) gc();
  const m = Deno.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss, external: m.external, malloc: mallocInUse() ?? 0 };
}

let session: Session | undefined;
let chunks: string[] = [];

async function snapshot(path: string): Promise<void> {
  if (session === undefined) {
    session = new Session();
    session.connect();
    session.on("HeapProfiler.addHeapSnapshotChunk", (m) => chunks.push(m.params.chunk));
  }
  chunks = [];
  const s = session;
  await new Promise<void>((resolve, reject) =>
    s.post("HeapProfiler.takeHeapSnapshot", {}, (e) => e ? reject(e) : resolve())
  );
  await Deno.writeTextFile(path, chunks.join(""));
}

if (import.meta.main) {
  const dir = Deno.env.get("SNAPSHOT");
  const at = Deno.env.get("SNAPSHOT_AT") ?? "full";
  const half = Math.ceil(N / 2);
  up(0, 1);
  up(1, half);
  const a = settled();
  if (dir !== undefined && at === "half") await snapshot(`${dir}/half.heapsnapshot`);
  up(half, N);
  const b = settled();
  if (dir !== undefined && at === "full") await snapshot(`${dir}/full.heapsnapshot`);
  const per = (k: "heap" | "rss" | "external" | "malloc") =>
    ((b[k] - a[k]) / (N - half) / 1024).toFixed(2);
  console.log(
    `${N} tunnels; per extra tunnel (2nd half), KiB: V8 heap ${per("heap")}, ` +
      `external ${per("external")}, malloc ${per("malloc")}, RSS ${per("rss")}`,
  );
}
