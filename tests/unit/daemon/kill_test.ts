/**
 * kill -9 in the middle of commits, many times at random points: the store on disk always holds
 * whole revisions only (no torn or corrupt file is ever found), and the next start runs the
 * newest one. The seed is printed so a failure can be replayed (BRANCHGATE_KILL_SEED).
 */

import assert from "node:assert/strict";
import { ConfigStore } from "../../../src/config/store.ts";
import { Logger } from "../../../src/log.ts";
import { DaemonProc, FLAGS, shell, testConfig, testPort } from "./daemon_proc.ts";

const MAIN = new URL("../../../src/main.ts", import.meta.url).pathname;
const ROUNDS = 15;

/** A small seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Opens the store read-only-ish and returns its revisions and any error lines it logged. */
function inspect(state: string) {
  const errors: string[] = [];
  const log = Logger.create({
    sinks: [{
      write: (level, line) => level === "error" && errors.push(line),
      close: () => Promise.resolve(),
    }],
  });
  const store = ConfigStore.open(state, log);
  return { revisions: store.list(), errors };
}

/** A shell committing `set peer hq replay_window N` over and over until killed. */
function commitLoop(state: string, start: number): Deno.ChildProcess {
  const lines = ["configure"];
  for (let i = 0; i < 400; i++) lines.push(`set peer hq replay_window ${start + i}`, "commit");
  const child = new Deno.Command(Deno.execPath(), {
    args: [...FLAGS, MAIN, "shell", "--state-dir", state],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const w = child.stdin.getWriter();
  w.write(new TextEncoder().encode(lines.map((l) => l + "\n").join(""))).catch(() => {});
  w.close().catch(() => {});
  return child;
}

Deno.test("kill -9 during commits never leaves a torn revision; restart runs the newest", async () => {
  const seed = Number(Deno.env.get("BRANCHGATE_KILL_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`kill test seed ${seed}`);
  const rand = rng(seed);
  const dir = Deno.makeTempDirSync({ prefix: "bg-kill-" });
  const state = `${dir}/state`;
  Deno.writeTextFileSync(`${dir}/bg.toml`, testConfig(testPort()));
  let newestSeen = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const d = DaemonProc.spawn(state, round === 0 ? { config: `${dir}/bg.toml` } : {});
      let loop: Deno.ChildProcess | undefined;
      try {
        await d.ready();
        loop = commitLoop(state, 60 + round * 1000);
        await d.waitLog(/msg="shell attached"/);
        await new Promise((r) => setTimeout(r, Math.floor(rand() * 250)));
      } finally {
        await d.kill();
        try {
          loop?.kill("SIGKILL");
        } catch {
          // already exited
        }
        await loop?.status;
      }
      const { revisions, errors } = inspect(state);
      assert.deepEqual(errors, [], `round ${round}: the store found damage`);
      const corrupt = [...Deno.readDirSync(`${state}/config`)].filter((e) =>
        e.name.endsWith(".corrupt")
      );
      assert.deepEqual(corrupt, [], `round ${round}: a revision was set aside`);
      const newest = revisions[0]?.number ?? 0;
      assert.ok(newest >= newestSeen, `round ${round}: revision went back`);
      newestSeen = newest;
    }
    console.log(`${ROUNDS} kills, newest revision ${newestSeen}`);
    assert.ok(newestSeen > ROUNDS, `commits happened between kills (newest ${newestSeen})`);

    const d = DaemonProc.spawn(state);
    try {
      await d.ready();
      const r = await shell(state, ["show config"]);
      const { revisions } = inspect(state);
      const top = revisions[0]!;
      assert.match(r.out, new RegExp(`^# revision ${top.number}, `, "m"));
      const delay = /replay_window = (\d+)/.exec(top.text)?.[1];
      if (delay !== undefined) assert.match(r.out, new RegExp(`replay_window = ${delay}$`, "m"));
      assert.equal((await d.stop()).code, 0);
    } finally {
      await d.kill();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
