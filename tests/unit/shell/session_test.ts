import assert from "node:assert/strict";
import { ShellSession } from "../../../src/shell/session.ts";
import { BASE, startGateway } from "./gateway_fixture.ts";
import { dropsTable } from "../../../src/shell/views.ts";

/** Polls `cond` with a generous deadline (a loaded 2-core box runs timers late). */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function run(s: ShellSession, line: string): Promise<string> {
  const r = await s.execute(line);
  return r.output.join("\n");
}

Deno.test("configure, set, commit: a new revision, PSK masked in every show", async () => {
  const f = await startGateway();
  try {
    const s = new ShellSession(f.gateway, "test");
    assert.match(await run(s, "configure"), /configure mode \(running revision 0\)/);
    for (
      const l of [
        "set peer hq remote 198.51.100.1",
        'set peer hq psk "correct horse battery"',
        "set peer hq local_ts 10.1.0.0/16",
        "set peer hq remote_ts 10.0.0.0/16",
        "set peer hq remote_ts 10.2.0.0/16",
        "set gateway mtu 1400",
      ]
    ) assert.equal(await run(s, l), "", l);
    const show = await run(s, "show");
    assert.ok(!show.includes("correct horse"), show);
    assert.match(show, /psk = "\*\*\*\*"/);
    assert.match(show, /remote_ts = \[ "10\.0\.0\.0\/16", "10\.2\.0\.0\/16" \]/);
    const cmp = await run(s, "compare");
    assert.match(cmp, /^\+ mtu = 1400$/m);
    assert.match(cmp, /^\+ psk = "\*\*\*\* \(changed\)"$/m);
    assert.ok(!cmp.includes("correct horse"));
    const out = await run(s, "commit");
    assert.match(out, /commit complete: revision 1/);
    assert.match(out, /peer hq: added/);
    assert.equal(await run(s, "compare"), "no changes");
    assert.equal(await run(s, "exit"), "");
    const cfg = await run(s, "show config");
    assert.match(cfg, /^# revision 1, .* by test$/m);
    assert.ok(!cfg.includes("correct horse"));
    assert.match(
      await run(s, "show peers"),
      /hq\s+198\.51\.100\.1\s+main\s+down.*no IKE responder/,
    );
    assert.equal(await run(s, "show ike sa"), "no IKE SAs");
    assert.equal(await run(s, "show esp sa"), "no ESP SAs");
  } finally {
    await f.dispose();
  }
});

Deno.test("a commit that does not validate names the key and changes nothing", async () => {
  const f = await startGateway(BASE);
  try {
    const s = new ShellSession(f.gateway, "test");
    await run(s, "configure");
    assert.equal(await run(s, "set peer hq dpd_delay 4000"), "");
    const r = await s.execute("commit");
    assert.equal(r.ok, false);
    assert.match(r.output.join("\n"), /error: peer\.hq\.dpd_delay: must be at most 3600/);
    assert.equal(f.gateway.running().revision, 1);
    assert.match(await run(s, "commit check"), /error: peer\.hq\.dpd_delay/);
    const exit = await s.execute("exit");
    assert.equal(exit.ok, false, "exit refused with uncommitted changes");
    assert.match(await run(s, "discard"), /reset/);
    assert.equal((await s.execute("exit")).ok, true);
  } finally {
    await f.dispose();
  }
});

Deno.test("typed values: numbers, booleans and choices are checked at set", async () => {
  const f = await startGateway(BASE);
  try {
    const s = new ShellSession(f.gateway, "test");
    await run(s, "configure");
    assert.match(
      await run(s, "set peer hq dpd_delay soon"),
      /error: dpd_delay: 'soon' is not a number/,
    );
    assert.match(await run(s, "set peer hq encap yes"), /error: 'yes' is not valid here/);
    assert.match(await run(s, "set peer hq mode fast"), /error: 'fast' is not valid here/);
    assert.match(await run(s, "set peer hq name other"), /error/);
    assert.equal(await run(s, "set peer hq encap true"), "");
    assert.equal(await run(s, "set peer hq ike_version 1"), "");
    assert.match(await run(s, "show peer hq"), /encap = true/);
    assert.match(
      await run(s, "delete peer hq remote_ts 10.9.0.0/16"),
      /'10.9.0.0\/16' is not valid here/,
    );
    assert.equal(await run(s, "delete peer hq encap"), "");
    assert.doesNotMatch(await run(s, "show peer hq"), /encap/);
    assert.equal(await run(s, "delete peer hq"), "");
    assert.doesNotMatch(await run(s, "show"), /hq/);
  } finally {
    await f.dispose();
  }
});

Deno.test("rollback N loads an older revision into the candidate", async () => {
  const f = await startGateway(BASE);
  try {
    const s = new ShellSession(f.gateway, "test");
    await run(s, "configure");
    await run(s, "set peer hq dpd_delay 10");
    await run(s, "commit");
    await run(s, "set peer hq dpd_delay 20");
    await run(s, "commit");
    assert.equal(f.gateway.running().revision, 3);
    assert.match(await run(s, "rollback 2"), /loaded/);
    const cmp = await run(s, "compare");
    assert.match(cmp, /^- dpd_delay = 20$/m);
    assert.match(cmp, /^ {2}name = "hq"$/m, "context names the peer");
    assert.match(await run(s, "commit"), /peer hq: changed dpd_delay/);
    assert.equal(f.gateway.config().peer[0]?.dpd_delay, 30);
    assert.match(await run(s, "rollback 42"), /error: '42' is not valid here/);
  } finally {
    await f.dispose();
  }
});

Deno.test("commit confirmed rolls back by itself unless confirmed", async () => {
  const f = await startGateway(BASE, { minuteMs: 40 });
  try {
    const s = new ShellSession(f.gateway, "test");
    const notices: string[] = [];
    f.gateway.onNotice((l) => notices.push(l));
    await run(s, "configure");
    await run(s, "set peer hq dpd_delay 11");
    assert.match(await run(s, "commit confirmed 1"), /rolls back to revision 1 at/);
    assert.equal(f.gateway.config().peer[0]?.dpd_delay, 11);
    await until(() => f.gateway.config().peer[0]?.dpd_delay === 30, "rolled back");
    assert.equal(f.gateway.running().revision, 3);
    assert.match(notices.join("\n"), /expired: rolled back to revision 1/);
    assert.match(f.log.recent(50).join("\n"), /level=warn .*commit confirmed expired/);

    await run(s, "discard");
    await run(s, "set peer hq dpd_delay 12");
    await run(s, "commit confirmed 1");
    assert.match(await run(s, "commit"), /automatic rollback cancelled/);
    assert.equal(f.gateway.pendingConfirm(), undefined, "no rollback pending");
    await new Promise((r) => setTimeout(r, 150)); // past the old deadline: nothing may fire
    assert.equal(f.gateway.config().peer[0]?.dpd_delay, 12, "kept after confirmation");
  } finally {
    await f.dispose();
  }
});

Deno.test("a pending commit confirmed survives a restart and still rolls back", async () => {
  const stateDir = Deno.makeTempDirSync({ prefix: "bg-gw-" });
  try {
    const f = await startGateway(BASE, { minuteMs: 60, stateDir });
    const s = new ShellSession(f.gateway, "test");
    await run(s, "configure");
    await run(s, "set peer hq dpd_delay 13");
    await run(s, "commit confirmed 1");
    await f.dispose();
    const g = await startGateway(undefined, { minuteMs: 60, stateDir });
    try {
      assert.equal(g.gateway.config().peer[0]?.dpd_delay, 13);
      assert.ok(g.gateway.pendingConfirm() !== undefined);
      await until(() => g.gateway.config().peer[0]?.dpd_delay === 30, "rolled back after restart");
    } finally {
      await g.dispose();
    }
  } finally {
    Deno.removeSync(stateDir, { recursive: true });
  }
});

Deno.test("a candidate made before another session's commit is refused", async () => {
  const f = await startGateway(BASE);
  try {
    const a = new ShellSession(f.gateway, "a");
    const b = new ShellSession(f.gateway, "b");
    await run(a, "configure");
    await run(b, "configure");
    await run(a, "set peer hq dpd_delay 15");
    await run(b, "set peer hq dpd_delay 16");
    assert.match(await run(a, "commit"), /revision 2/);
    assert.match(await run(b, "commit"), /error: the running config changed/);
    assert.equal(f.gateway.config().peer[0]?.dpd_delay, 15);
  } finally {
    await f.dispose();
  }
});

Deno.test("abbreviations, run, errors for unknown and incomplete commands", async () => {
  const f = await startGateway(BASE);
  try {
    const s = new ShellSession(f.gateway, "test");
    assert.match(await run(s, "sh pe"), /^peer/);
    assert.match(await run(s, "show log 5"), /level=/);
    assert.match(await run(s, "show"), /error: incomplete command 'show'/);
    assert.match(await run(s, "frobnicate"), /error: 'frobnicate' is not valid here/);
    assert.match(await run(s, "show log 0"), /error: show log takes 1-1000/);
    assert.match(await run(s, "show version"), /services: config only/);
    assert.match(await run(s, "clear ike sa hq"), /peer hq: no IKE SAs/);
    await run(s, "configure");
    assert.match(await run(s, "co"), /error: 'co' is ambiguous: compare, commit/);
    assert.match(await run(s, "run show peers"), /^peer/);
    assert.match(await run(s, 'set peer hq psk "unterminated'), /error: unterminated quote/);
    assert.equal((await s.execute("run exit")).end, false);
  } finally {
    await f.dispose();
  }
});

Deno.test("tab completion and ? help come from the schema", async () => {
  const f = await startGateway(BASE);
  try {
    const s = new ShellSession(f.gateway, "test");
    assert.deepEqual(s.complete("sh"), { insert: "ow ", listing: [] });
    assert.deepEqual(s.complete("show i"), { insert: "ke ", listing: [] });
    assert.deepEqual(s.complete("clear ike sa "), { insert: "hq ", listing: [] });
    const top = s.help("");
    assert.equal(top[0], "Possible completions:");
    assert.ok(top.some((l) => /^ {2}configure\s+enter configure mode$/.test(l)));
    await run(s, "configure");
    assert.deepEqual(s.complete("set gateway mt"), { insert: "u ", listing: [] });
    assert.deepEqual(s.complete("set peer hq dpd_"), {
      insert: "",
      listing: s.help("set peer hq dpd_"),
    });
    assert.deepEqual(s.complete("set peer hq dpd_d"), { insert: "elay ", listing: [] });
    assert.deepEqual(s.complete("set peer hq mode a"), { insert: "ggressive ", listing: [] });
    const h = s.help("set gateway mtu ");
    assert.ok(h.some((l) => /<576-9000>\s+MTU of the TUN device/.test(l)), h.join("\n"));
    const ph = s.help("set peer hq ");
    assert.ok(ph.some((l) => /^ {2}dpd_delay\s+dead peer detection/.test(l)));
    assert.ok(!ph.some((l) => /^ {2}name\b/.test(l)), "name is not settable");
    const cr = s.help("commit ");
    assert.ok(cr.some((l) => l.startsWith("  <cr>")));
    assert.ok(cr.some((l) => /^ {2}confirmed\s/.test(l)));
    assert.ok(s.help("rollback ").some((l) => /^ {2}0\s+.*file imported test\.toml/.test(l)));
    assert.match(s.help("bogus ")[0] ?? "", /error/);
    for (const l of [...top, ...ph, ...h]) assert.ok(l.length <= 80, l);
  } finally {
    await f.dispose();
  }
});

Deno.test("show drops: counters by layer and reason, most frequent first; none without a responder", async () => {
  assert.deepEqual(
    dropsTable([
      { layer: "ike", reason: "no-sa", count: 3 },
      { layer: "datapath", reason: "ike-queue-full", count: 70 },
      { layer: "esp", reason: "icv", count: 0 },
    ]),
    ["datapath ike-queue-full  70", "ike no-sa                3"],
  );
  const f = await startGateway(BASE);
  try {
    const s = new ShellSession(f.gateway, "test");
    assert.equal(await run(s, "show drops"), "no input dropped");
    assert.equal(await run(s, "sh dr"), "no input dropped");
  } finally {
    await f.dispose();
  }
});
