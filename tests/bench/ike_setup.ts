/**
 * `make bench-ike` (root, after `make image`): the responder's CPU per IKE setup, branchgate (as
 * the image ships it; `BENCH_SOURCE=1` runs src/main.ts) vs strongSwan's charon, in the same run
 * and the same lab (footprint_lab.ts): a strongSwan initiator does CYCLES (default 40)
 * initiate/terminate cycles of IKEv1 Main Mode + Quick Mode, then of IKEv2 IKE_SA_INIT +
 * IKE_AUTH with its CHILD_SA (aes256-sha256-modp2048, ESP aes128gcm16); the responder's
 * user+system CPU over the cycles comes from /proc/PID/stat (and per thread from its tasks).
 *
 * Usage: `deno run --allow-all tests/bench/ike_setup.ts [branchgate|strongswan|both]`
 * @module
 */

import { withLab } from "../interop/lib/netns.ts";
import { twoSites } from "../interop/lib/topology.ts";
import {
  type FootprintLab,
  type Responder,
  respondersFrom,
  sampleProcess,
  startFootprintLab,
  threadCpu,
} from "./footprint_lab.ts";

const CYCLES = Number(Deno.env.get("CYCLES") ?? 40);
const WARMUP = Number(Deno.env.get("WARMUP") ?? 3);

/** What one responder spent. */
interface SetupCost {
  /** CPU milliseconds per setup (MM + QM + the Delete that ends it). */
  readonly cpuMs: number;
  /** Setups per second of wall clock, initiator and swanctl included. */
  readonly perSecond: number;
  /** CPU milliseconds per setup by thread name, largest first. */
  readonly threads: [string, number][];
}

/** CPU seconds of `pid` once it stopped rising (the last Delete processed). */
async function quietCpu(pid: number): Promise<number> {
  let last = (await sampleProcess(pid)).cpuSeconds;
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = (await sampleProcess(pid)).cpuSeconds;
    if (now === last) return now;
    last = now;
  }
  return last;
}

async function cycles(l: FootprintLab, n: number): Promise<void> {
  const t = l.tunnels[0]!;
  for (let i = 0; i < n; i++) {
    await l.initiator.initiate(t.child);
    await l.initiator.terminate({ ike: t.ike });
  }
}

async function measure(responder: Responder, version: 1 | 2): Promise<SetupCost> {
  return await withLab(async (lab) => {
    const sites = await twoSites(lab);
    const l = await startFootprintLab(lab, sites, responder, 1, version);
    await cycles(l, WARMUP);
    const before = await quietCpu(l.pid);
    const threadsBefore = await threadCpu(l.pid);
    const t0 = performance.now();
    await cycles(l, CYCLES);
    const wall = (performance.now() - t0) / 1000;
    const after = await quietCpu(l.pid);
    const threads = [...await threadCpu(l.pid)]
      .map((
        [name, s],
      ): [string, number] => [name, (s - (threadsBefore.get(name) ?? 0)) * 1000 / CYCLES])
      .filter(([, ms]) => ms > 0)
      .sort((a, b) => b[1] - a[1]);
    return { cpuMs: (after - before) * 1000 / CYCLES, perSecond: CYCLES / wall, threads };
  });
}

if (import.meta.main) {
  const sides = respondersFrom(Deno.args[0]);
  if (sides.length === 0 || Deno.uid() !== 0 || !(CYCLES >= 5)) {
    console.error("usage (root): ike_setup.ts [branchgate|strongswan|both]  (CYCLES ≥ 5)");
    Deno.exit(2);
  }
  for (const version of [1, 2] as const) {
    const rows = new Map<Responder, SetupCost>();
    for (const side of sides) rows.set(side, await measure(side, version));
    console.log(
      version === 1
        ? `IKEv1 Main Mode + Quick Mode (PSK, modp2048), ${CYCLES} cycles, responder side:`
        : `IKEv2 IKE_SA_INIT + IKE_AUTH with a CHILD_SA (PSK, modp2048), ${CYCLES} cycles:`,
    );
    for (const [side, c] of rows) {
      console.log(
        `${side.padEnd(10)} ${c.cpuMs.toFixed(2).padStart(7)} ms CPU per setup  ` +
          `${c.perSecond.toFixed(1).padStart(6)} setups/s (wall, swanctl included)`,
      );
      const parts = c.threads.slice(0, 5).map(([n, ms]) => `${n} ${ms.toFixed(2)}`).join(", ");
      console.log(`           by thread (ms per setup): ${parts}`);
    }
    const bg = rows.get("branchgate");
    const sw = rows.get("strongswan");
    if (bg !== undefined && sw !== undefined) {
      console.log(`ratio branchgate/strongSwan CPU per setup: ${(bg.cpuMs / sw.cpuMs).toFixed(2)}`);
    }
  }
}
