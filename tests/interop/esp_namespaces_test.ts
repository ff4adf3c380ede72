/**
 * Root: two branchgate data paths (TUN + SA database + pump over real sockets) in two network
 * namespaces joined by a veth; hosts on 198.51.100.0/24 and 203.0.113.0/24 ping each other
 * through ESP-in-UDP (RFC 3948) and through raw ESP (IP protocol 50); a captured ESP packet sent
 * onto the wire again is dropped and counted as a replay. Outer addresses are in
 * 192.0.2.0/24. Everything the test creates is removed afterwards.
 */

import assert from "node:assert/strict";

const fixture = new URL("./fixtures/esp_gateway.ts", import.meta.url).pathname;

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

async function must(...args: string[]): Promise<void> {
  const r = await sh(...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.out}`);
}

/** A fixture process and its output so far. */
interface Gateway {
  child: Deno.ChildProcess;
  output: Promise<string>;
}

async function startGateway(ns: string, args: string[]): Promise<Gateway> {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, Deno.execPath(), "run", "--allow-all", fixture, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`gateway in ${ns} exited before it was ready: ${seen}`);
    seen += value;
  }
  const output = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return seen;
      seen += value;
    }
  })();
  return { child, output };
}

function counters(text: string) {
  const line = text.split("\n").find((l) => l.startsWith("{"));
  assert.ok(line, `no counters in: ${text}`);
  return JSON.parse(line) as {
    pump: { espIn: number; espOut: number; tunOut: number };
    sas: { direction: string; packets: number; icvFailures: number; replayDrops: number }[];
  };
}

for (const mode of ["udp", "raw"] as const) {
  Deno.test(`ping between two subnets through two branchgate data paths over ${mode} ESP`, async () => {
    const a = `bgea${Deno.pid}${mode}`;
    const b = `bgeb${Deno.pid}${mode}`;
    const gateways: Gateway[] = [];
    try {
      await must("ip", "netns", "add", a);
      await must("ip", "netns", "add", b);
      await must(
        "ip",
        "-n",
        a,
        "link",
        "add",
        "veth0",
        "type",
        "veth",
        "peer",
        "name",
        "veth0",
        "netns",
        b,
      );
      await must("ip", "-n", a, "addr", "add", "192.0.2.1/24", "dev", "veth0");
      await must("ip", "-n", b, "addr", "add", "192.0.2.2/24", "dev", "veth0");
      for (const ns of [a, b]) {
        await must("ip", "-n", ns, "link", "set", "veth0", "up");
        await must("ip", "-n", ns, "link", "set", "lo", "up");
      }
      gateways.push(
        await startGateway(a, [
          "192.0.2.1",
          "192.0.2.2",
          "198.51.100.0/24",
          "203.0.113.0/24",
          "0x2001",
          "0x1001",
          mode,
          "8",
          "replay",
        ]),
      );
      gateways.push(
        await startGateway(b, [
          "192.0.2.2",
          "192.0.2.1",
          "203.0.113.0/24",
          "198.51.100.0/24",
          "0x1001",
          "0x2001",
          mode,
          "8",
        ]),
      );
      for (
        const [ns, addr, far] of [[a, "198.51.100.1/24", "203.0.113.0/24"], [
          b,
          "203.0.113.1/24",
          "198.51.100.0/24",
        ]]
      ) {
        await must("ip", "-n", ns!, "link", "set", "bgt0", "up", "mtu", "1400");
        await must("ip", "-n", ns!, "addr", "add", addr!, "dev", "bgt0");
        await must("ip", "-n", ns!, "route", "add", far!, "dev", "bgt0");
      }
      const ping = await sh(
        "ip",
        "netns",
        "exec",
        a,
        "ping",
        "-c",
        "5",
        "-i",
        "0.2",
        "-W",
        "2",
        "-I",
        "198.51.100.1",
        "203.0.113.1",
      );
      assert.equal(ping.code, 0, ping.out);
      assert.match(ping.out, /5 received/);
      const big = await sh(
        "ip",
        "netns",
        "exec",
        a,
        "ping",
        "-c",
        "2",
        "-s",
        "1300",
        "-W",
        "2",
        "-I",
        "198.51.100.1",
        "203.0.113.1",
      );
      assert.equal(big.code, 0, big.out);
      const [ca, cb] = [counters(await gateways[0]!.output), counters(await gateways[1]!.output)];
      for (const c of [ca, cb]) {
        assert.ok(c.pump.espOut >= 7 && c.pump.espIn >= 7, JSON.stringify(c.pump));
        const inbound = c.sas.find((s) => s.direction === "in")!;
        assert.ok(inbound.packets >= 7);
        assert.equal(inbound.icvFailures, 0);
      }
      // Gateway A re-sent its first ESP datagram on the wire: B dropped and counted it, A saw none.
      assert.equal(cb.sas.find((s) => s.direction === "in")!.replayDrops, 1);
      assert.equal(ca.sas.find((s) => s.direction === "in")!.replayDrops, 0);
    } finally {
      for (const g of gateways) {
        try {
          g.child.kill("SIGKILL");
        } catch { /* already exited */ }
        await g.child.status;
      }
      await sh("ip", "netns", "del", a);
      await sh("ip", "netns", "del", b);
    }
  });
}
