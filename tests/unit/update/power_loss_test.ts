/**
 * Power loss during an install: `branchgate bundle install` runs as a subprocess and is killed
 * with SIGKILL at seeded random points in every phase (the phase lines it prints, plus a random
 * delay, or a random time after the start). After each kill the device must name a complete
 * version (old or new, never a mix), a start must succeed, and rerunning the install must finish
 * it. Replay a run with BRANCHGATE_KILL_SEED.
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { bootStart } from "../../../src/update/boot.ts";
import { installBundle } from "../../../src/update/install.ts";
import { checkSlot, currentSlot } from "../../../src/update/slots.ts";
import { chunksOf, makeDevice, TARGET } from "./device_fixture.ts";
import { makeBundle, makeKeys, NOW } from "./fixture.ts";

/** The real `bundle` CLI with the fixture's clock (the test never reads the wall clock). */
const CHILD = new URL("./install_child.ts", import.meta.url).pathname;
const PHASES = ["verify", "stage", "place", "record", "switch", "done"];
const ROUNDS = 24;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the installer and kills it after `phase` appears (+delayMs), or after delayMs alone. */
async function killDuring(
  state: string,
  bundle: string,
  phase: string | undefined,
  delayMs: number,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--frozen",
      "--allow-all",
      CHILD,
      "install",
      "--state",
      state,
      "--arch",
      TARGET.arch,
      bundle,
    ],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  let seen = "";
  const reader = child.stdout.getReader();
  try {
    const kill = () => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    };
    if (phase === undefined) setTimeout(kill, delayMs);
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      seen += new TextDecoder().decode(r.value);
      if (phase !== undefined && seen.includes(`install: ${phase}\n`)) {
        if (delayMs === 0) kill();
        else setTimeout(kill, delayMs);
        phase = undefined;
        delayMs = 1e9;
      }
    }
  } finally {
    reader.releaseLock();
    await child.status;
  }
  return seen;
}

Deno.test("power loss: kill -9 the installer in every phase; a start finds old or new, a rerun finishes", async () => {
  const seed = Number(Deno.env.get("BRANCHGATE_KILL_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const rnd = prng(seed);
  const keys = makeKeys();
  console.log(`power loss: seed ${seed} (replay with BRANCHGATE_KILL_SEED=${seed})`);
  const work = Deno.makeTempDirSync({ prefix: "bg-kill-" });
  const bundlePath = join(work, "v2.bgb");
  const v2 = makeBundle(keys, "2.0.0", { extra: 3 << 20, arch: TARGET.arch });
  Deno.writeFileSync(bundlePath, v2);
  const seenOld = new Set<string>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const byPhase = round < ROUNDS * 0.75;
      const phase = byPhase ? PHASES[round % PHASES.length] : undefined;
      const delay = byPhase ? Math.floor(rnd() * 4) : Math.floor(rnd() * 400);
      const state = await makeDevice(keys);
      const ctx = `seed ${seed} round ${round} (${phase ?? "time"} +${delay} ms)`;
      try {
        await killDuring(state, bundlePath, phase, delay);
        const cur = currentSlot(state);
        assert.ok(cur !== undefined, ctx);
        const c = checkSlot(state, cur);
        assert.ok(c.ok, `${ctx}: current slot ${cur} incomplete: ${!c.ok ? c.reason : ""}`);
        assert.ok(c.version === "1.0.0" || c.version === "2.0.0", ctx);
        seenOld.add(c.version);
        const d = await bootStart(state, { now: NOW });
        assert.ok(checkSlot(state, d.slot).ok, ctx);
        const r = await installBundle(state, chunksOf(v2, 1 << 20), {
          target: TARGET,
          now: NOW,
        });
        assert.equal(r.version, "2.0.0", ctx);
        const after = currentSlot(state);
        assert.ok(after !== undefined);
        assert.deepEqual(checkSlot(state, after), { ok: true, version: "2.0.0" }, ctx);
        const left = [...Deno.readDirSync(join(state, "slots"))].map((e) => e.name).sort();
        assert.deepEqual(left, ["a", "b"], `${ctx}: leftovers ${left}`);
      } finally {
        Deno.removeSync(state, { recursive: true });
      }
    }
    assert.deepEqual([...seenOld].sort(), ["1.0.0", "2.0.0"], `seed ${seed}: both outcomes seen`);
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
});
