/**
 * Root: a real TUN device through hw/tun.ts inside a network namespace this test creates.
 * The kernel's ping sends echo requests into the TUN; the fixture answers through the same
 * device; ping must see the replies. TEST-NET-2 addresses only; everything is removed after.
 */

import assert from "node:assert/strict";

const ns = `bgtun${Deno.pid}`;
const fixture = new URL("./fixtures/tun_echo.ts", import.meta.url).pathname;

async function sh(...args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(args[0]!, {
    args: args.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test("ping through a real TUN device answered by hw/tun.ts", async () => {
  assert.equal((await sh("ip", "netns", "add", ns)).code, 0);
  let child: Deno.ChildProcess | undefined;
  try {
    child = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "run",
        "--allow-all",
        fixture,
        "bgt0",
        "3",
        "15000",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    assert.match(seen, /ready/);
    for (
      const cmd of [
        ["ip", "-n", ns, "link", "set", "bgt0", "up", "mtu", "1400"],
        ["ip", "-n", ns, "addr", "add", "198.51.100.1/24", "dev", "bgt0"],
      ]
    ) {
      const r = await sh(...cmd);
      assert.equal(r.code, 0, r.out);
    }
    // 198.51.100.2 lies behind the TUN: the requests go to the fixture, which replies.
    const ping = await sh(
      "ip",
      "netns",
      "exec",
      ns,
      "ping",
      "-c",
      "3",
      "-i",
      "0.2",
      "-W",
      "2",
      "198.51.100.2",
    );
    assert.equal(ping.code, 0, ping.out);
    assert.match(ping.out, /3 received/);
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
    }
    assert.match(seen + rest, /answered 3/);
    assert.equal((await child.status).code, 0);
    child = undefined;
  } finally {
    if (child !== undefined) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
    }
    await sh("ip", "netns", "del", ns);
  }
});
