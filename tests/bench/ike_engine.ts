/**
 * The IKE engine's own cost per setup, in one process (no sockets, no Worker, no routes): the
 * responder answers N setups with the algorithms of `make bench-ike` (aes256-sha256-modp2048,
 * ESP aes128gcm16), each ended by the initiator's Delete. IKEv1: this project's initiator dials
 * Main Mode + Quick Mode (tests/exchange/pair/wire.ts); IKEv2: the scripted initiator of
 * tests/exchange/initiator_v2/ runs IKE_SA_INIT + IKE_AUTH. Only the responder's `handle` and
 * `tick` calls are timed, in CPU time of the process (getrusage); `PROFILE=file.json` also writes a V8 CPU profile of the timed run and
 * prints the functions with the most self time.
 *
 * Usage: `deno run --allow-all tests/bench/ike_engine.ts [1|2|both]` (CYCLES, default 200)
 * @module
 */

import { Session } from "node:inspector";
import process from "node:process";
import type { IkeAction, IkeResponder } from "../../src/ike/actions.ts";
import { branchPolicy, hubPolicy, Wire } from "../exchange/pair/wire.ts";
import { v2Policy, V2Setup } from "../exchange/initiator_v2/harness.ts";

const CYCLES = Number(Deno.env.get("CYCLES") ?? 200);
const IKE = "aes256-sha256-modp2048";
const ESP = "aes128gcm16";

/** CPU milliseconds (the process's user + system) spent inside the wrapped responder. */
let spent = 0;

/** CPU milliseconds of the process so far (getrusage: wall clocks lie on a loaded machine). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** `engine` with its `handle` and `tick` timed into {@link spent}. */
function timed<T extends IkeResponder>(engine: T): T {
  const handle = engine.handle.bind(engine);
  const tick = engine.tick.bind(engine);
  engine.handle = (...a) => {
    const t0 = cpuMs();
    try {
      return handle(...a);
    } finally {
      spent += cpuMs() - t0;
    }
  };
  engine.tick = (now) => {
    const t0 = cpuMs();
    try {
      return tick(now);
    } finally {
      spent += cpuMs() - t0;
    }
  };
  return engine;
}

function count(actions: readonly IkeAction[], kind: IkeAction["kind"]): number {
  return actions.filter((a) => a.kind === kind).length;
}

/** One IKEv1 setup cycle runner over one wired pair. */
function v1(): () => void {
  const w = new Wire(
    branchPolicy({ ike_proposals: [IKE], esp_proposals: [ESP] }),
    hubPolicy({ ike_proposals: [IKE], esp_proposals: [ESP] }),
  );
  timed(w.hub.engine);
  return () => {
    const before = w.hub.log.length;
    w.dial();
    const up = w.hub.sas.size;
    if (up !== 2) throw new Error(`IKEv1 setup failed: ${up} SAs`);
    w.run("branch", w.branch.engine.deletePeer("hq", w.now));
    w.advance(w.now + 1000);
    if (w.hub.sas.size !== 0 || count(w.hub.log.slice(before), "installSa") !== 2) {
      throw new Error("IKEv1 delete failed");
    }
    w.hub.log.length = 0;
    w.branch.log.length = 0;
  };
}

/** One IKEv2 setup cycle runner over one engine. */
function v2(): () => void {
  const policy = v2Policy({ ike_proposals: [IKE], esp_proposals: [ESP] });
  const first = new V2Setup(policy, { ike: [IKE], esp: [ESP] });
  const engine = timed(first.r);
  return () => {
    const s = new V2Setup(policy, { ike: [IKE], esp: [ESP] }, engine);
    s.establish();
    if (s.installs().length !== 2) throw new Error("IKEv2 setup failed");
    s.exchange(s.i.deleteIke());
    if (count(s.log, "deleteSa") !== 2) throw new Error("IKEv2 delete failed");
  };
}

type Post = (method: string, params?: object) => Promise<unknown>;

function inspector(): Post {
  const s = new Session();
  s.connect();
  return (method, params = {}) =>
    new Promise((ok, fail) => s.post(method, params, (e, r) => e ? fail(e) : ok(r)));
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Prints the `top` functions by self time of a CPU profile. */
function summary(
  profile: { nodes: ProfileNode[]; startTime: number; endTime: number },
  top = 40,
): void {
  const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(src|tests|hw)\//, "$1/");
    const k = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    self.set(k, (self.get(k) ?? 0) + (n.hitCount ?? 0));
  }
  for (const [k, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(100 * hits / total).toFixed(1).padStart(5)}%  ${k}`);
  }
}

async function run(version: 1 | 2, post?: Post): Promise<void> {
  const cycle = version === 1 ? v1() : v2();
  for (let i = 0; i < 20; i++) cycle(); // warm-up: JIT and lazy tables
  spent = 0;
  if (post !== undefined) {
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 100 });
    await post("Profiler.start");
  }
  const t0 = cpuMs();
  for (let i = 0; i < CYCLES; i++) cycle();
  const both = cpuMs() - t0;
  console.log(
    `IKEv${version}: responder ${(spent / CYCLES).toFixed(3)} ms per setup ` +
      `(both sides ${(both / CYCLES).toFixed(3)} ms), ${CYCLES} cycles`,
  );
  if (post !== undefined) {
    const { profile } = await post("Profiler.stop") as {
      profile: { nodes: ProfileNode[]; startTime: number; endTime: number };
    };
    const file = Deno.env.get("PROFILE")!.replace(/\.json$/, `.v${version}.cpuprofile`);
    await Deno.writeTextFile(file, JSON.stringify(profile));
    summary(profile);
  }
}

if (import.meta.main) {
  const which = Deno.args[0] ?? "both";
  const post = Deno.env.get("PROFILE") !== undefined ? inspector() : undefined;
  if (which === "1" || which === "both") await run(1, post);
  if (which === "2" || which === "both") await run(2, post);
}
