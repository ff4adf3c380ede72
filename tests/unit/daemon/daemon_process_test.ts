/**
 * `branchgate run` as a process: the control socket is 0600 in a 0700 state dir, the shell
 * attaches over it, secrets stay out of the log and `show config`, SIGTERM exits 0 and removes
 * the socket; a bad config, a second daemon on the same state dir or a missing daemon give one
 * clear line and a non-zero exit; the store, not the unchanged file, is authoritative after a
 * restart.
 */

import assert from "node:assert/strict";
import { DaemonProc, shell, testConfig, testPort } from "./daemon_proc.ts";

function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "bg-daemon-" });
}

Deno.test("start, attach, stop: socket 0600, secrets masked, SIGTERM exits 0", async () => {
  const dir = tempDir();
  const state = `${dir}/state`;
  Deno.writeTextFileSync(`${dir}/bg.toml`, testConfig(testPort()));
  const d = DaemonProc.spawn(state, { config: `${dir}/bg.toml` });
  try {
    await d.ready();
    assert.equal(Deno.statSync(`${state}/control.sock`).mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(state).mode! & 0o777, 0o700);
    const r = await shell(state, ["show peers", "show config", "show version", "show log 50"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^hq +127\.0\.0\.1 +main /m);
    assert.match(r.out, /psk = "\*\*\*\*"/);
    assert.match(r.out, /^branchgate \d+\.\d+\.\d+$/m);
    assert.match(r.out, /msg="config file imported"/);
    assert.ok(!r.out.includes("correct horse"), "no PSK in shell output");
    const status = await d.stop();
    assert.equal(status.code, 0, d.log);
    assert.match(d.log, /msg="stopped"/);
    assert.ok(!d.log.includes("correct horse"), "no PSK in the log");
    assert.throws(() => Deno.statSync(`${state}/control.sock`), Deno.errors.NotFound);
  } finally {
    await d.kill();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a bad config is refused with one line naming the file and key", async () => {
  const dir = tempDir();
  Deno.writeTextFileSync(
    `${dir}/bad.toml`,
    testConfig(testPort()).replace('remote = "127.0.0.1"', 'remote = "not an ip"'),
  );
  const d = DaemonProc.spawn(`${dir}/state`, { config: `${dir}/bad.toml` });
  try {
    const status = await d.status;
    assert.equal(status.code, 1);
    assert.match(d.log, /^branchgate run: config .*bad\.toml:\d+: peer\.hq\.remote: .*$/m);
  } finally {
    await d.kill();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a second daemon on the same state dir is refused; shell without daemon fails", async () => {
  const dir = tempDir();
  const state = `${dir}/state`;
  Deno.writeTextFileSync(`${dir}/bg.toml`, testConfig(testPort()));
  const a = DaemonProc.spawn(state, { config: `${dir}/bg.toml` });
  let b: DaemonProc | undefined;
  try {
    await a.ready();
    b = DaemonProc.spawn(state);
    assert.equal((await b.status).code, 1);
    assert.match(b.log, /branchgate run: another branchgate daemon is running on /);
    assert.equal((await shell(state, ["show peers"])).code, 0, "the first one still serves");
    assert.equal((await a.stop()).code, 0);
    const r = await shell(state, ["show peers"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot reach the daemon at .*control\.sock: no control socket/);
  } finally {
    await a.kill();
    await b?.kill();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("after a restart the store runs, not the unchanged file; a changed file is imported", async () => {
  const dir = tempDir();
  const state = `${dir}/state`;
  const port = testPort();
  Deno.writeTextFileSync(`${dir}/bg.toml`, testConfig(port));
  let d = DaemonProc.spawn(state, { config: `${dir}/bg.toml` });
  try {
    await d.ready();
    const c = await shell(state, [
      "configure",
      "set peer hq dpd_delay 45",
      "commit",
      "exit",
    ]);
    assert.equal(c.code, 0, c.out + c.err);
    assert.match(c.out, /commit complete: revision 2/);
    assert.equal((await d.stop()).code, 0);

    d = DaemonProc.spawn(state, { config: `${dir}/bg.toml` });
    await d.ready();
    let r = await shell(state, ["show config"]);
    assert.match(r.out, /^# revision 2, /m);
    assert.match(r.out, /dpd_delay = 45/);
    assert.equal((await d.stop()).code, 0);

    Deno.writeTextFileSync(`${dir}/bg.toml`, testConfig(port, "dpd_delay = 60\n"));
    d = DaemonProc.spawn(state, { config: `${dir}/bg.toml` });
    await d.ready();
    r = await shell(state, ["show config"]);
    assert.match(r.out, /^# revision 3, .* by file$/m);
    assert.match(r.out, /dpd_delay = 60/);
  } finally {
    await d.kill();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an IKE or NAT-T port in use is refused with one line naming the port", async () => {
  const dir = tempDir();
  const port = testPort();
  Deno.writeTextFileSync(`${dir}/bg.toml`, testConfig(port));
  const a = DaemonProc.spawn(`${dir}/a`, { config: `${dir}/bg.toml` });
  let b: DaemonProc | undefined;
  try {
    await a.ready();
    b = DaemonProc.spawn(`${dir}/b`, { config: `${dir}/bg.toml` });
    assert.equal((await b.status).code, 1);
    assert.match(b.log, new RegExp(`^branchgate run: .*port (${port}|${port + 1}).*in use`, "m"));
    assert.match(b.log, /^branchgate run: .+$/m);
    assert.ok(!b.log.includes("correct horse"));
  } finally {
    await a.kill();
    await b?.kill();
    Deno.removeSync(dir, { recursive: true });
  }
});
