/**
 * Root: two branchgate data paths (the Worker behind `startDataPath`, real TUN devices, routes
 * set by the data path) in two network namespaces joined by a veth; hosts on 198.51.100.0/24
 * and 203.0.113.0/24 ping each other through ESP-in-UDP (RFC 3948, AES-GCM) and through raw
 * ESP (IP protocol 50, AES-CBC + HMAC-SHA-256-128); an ESP packet captured on the wire with
 * tcpdump and sent again is dropped and counted as a replay. Outer addresses are in
 * 192.0.2.0/24. Everything the test creates is removed afterwards.
 */

import assert from "node:assert/strict";

const fixture = new URL("./fixtures/esp_gateway.ts", import.meta.url).pathname;
const replayer = new URL("./fixtures/esp_replay.ts", import.meta.url).pathname;

/**
 * The first ESP payload in a pcap: after the Ethernet header, the outer IPv4 header (IHL) or
 * IPv6 header (40 bytes, no extension headers here) and, for UDP, the UDP header.
 */
function firstEsp(pcap: Uint8Array, mode: "udp" | "raw"): Uint8Array {
  const v = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  assert.ok(pcap.length > 24 + 16 + 14 + 20, "capture too short");
  assert.equal(v.getUint32(20, true), 1, "Ethernet link type");
  const caplen = v.getUint32(24 + 8, true);
  const frame = pcap.subarray(40, 40 + caplen);
  const ipHeader = frame[14]! >> 4 === 6 ? 40 : (frame[14]! & 0x0f) * 4;
  return frame.subarray(14 + ipHeader + (mode === "udp" ? 8 : 0));
}

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
    stats: { espIn: number; espOut: number; tunOut: number };
    sas: { direction: string; packets: number; icvFailures: number; replayDrops: number }[];
  };
}

const CASES = [
  { mode: "udp", suite: "gcm", outer: ["192.0.2.1", "192.0.2.2"], prefix: 24 },
  { mode: "raw", suite: "cbc", outer: ["192.0.2.1", "192.0.2.2"], prefix: 24 },
  { mode: "raw", suite: "gcm", outer: ["2001:db8::1", "2001:db8::2"], prefix: 64 },
] as const;

for (const { mode, suite, outer, prefix } of CASES) {
  const v6 = outer[0].includes(":");
  Deno.test(`ping between two subnets through two branchgate data paths, ${mode} ESP over IPv${v6 ? 6 : 4}, ${suite}`, async () => {
    const a = `bgea${Deno.pid}${mode}${suite}`;
    const b = `bgeb${Deno.pid}${mode}${suite}`;
    const gateways: Gateway[] = [];
    let capture: Deno.ChildProcess | undefined;
    const pcap = await Deno.makeTempFile({ suffix: ".pcap" });
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
      const nodad = v6 ? ["nodad"] : []; // usable at once, no duplicate address detection
      await must("ip", "-n", a, "addr", "add", `${outer[0]}/${prefix}`, "dev", "veth0", ...nodad);
      await must("ip", "-n", b, "addr", "add", `${outer[1]}/${prefix}`, "dev", "veth0", ...nodad);
      for (const ns of [a, b]) {
        await must("ip", "-n", ns, "link", "set", "veth0", "up");
        await must("ip", "-n", ns, "link", "set", "lo", "up");
      }
      gateways.push(
        await startGateway(a, [
          outer[0],
          outer[1],
          "198.51.100.0/24",
          "203.0.113.0/24",
          "0x2001",
          "0x1001",
          mode,
          "10",
          suite,
        ]),
      );
      gateways.push(
        await startGateway(b, [
          outer[1],
          outer[0],
          "203.0.113.0/24",
          "198.51.100.0/24",
          "0x1001",
          "0x2001",
          mode,
          "10",
          suite,
        ]),
      );
      // The data paths brought bgt0 up and routed the far subnet into it; the test only gives
      // each gateway an address on its inner subnet to ping from.
      for (
        const [ns, addr, far] of [[a, "198.51.100.1/24", "203.0.113.0/24"], [
          b,
          "203.0.113.1/24",
          "198.51.100.0/24",
        ]]
      ) {
        await must("ip", "-n", ns!, "addr", "add", addr!, "dev", "bgt0");
        const route = await sh("ip", "-n", ns!, "route", "show", far!);
        assert.match(route.out, /dev bgt0/, `route to ${far} set by the data path`);
        const link = await sh("ip", "-n", ns!, "link", "show", "bgt0");
        assert.match(link.out, /mtu 1400/);
      }
      const filter = `src host ${outer[0]} and ` +
        (mode === "udp" ? "udp dst port 4500" : v6 ? "ip6 proto 50" : "ip proto 50");
      capture = new Deno.Command("ip", {
        args: ["netns", "exec", a, "tcpdump", "-i", "veth0", "-U", "-c", "1", "-w", pcap, filter],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const capErr = capture.stderr.pipeThrough(new TextDecoderStream()).getReader();
      for (let seen = ""; !seen.includes("listening");) {
        const { value, done } = await capErr.read();
        if (done) break;
        seen += value;
      }
      capErr.releaseLock();
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
      assert.equal((await capture.status).code, 0, "tcpdump captured one ESP packet");
      capture = undefined;
      const esp = firstEsp(await Deno.readFile(pcap), mode);
      const hex = Array.from(esp, (x) => x.toString(16).padStart(2, "0")).join("");
      const sent = await sh(
        "ip",
        "netns",
        "exec",
        a,
        Deno.execPath(),
        "run",
        "--allow-all",
        replayer,
        mode,
        outer[1],
        hex,
      );
      assert.match(sent.out, /sent/);
      const [ca, cb] = [counters(await gateways[0]!.output), counters(await gateways[1]!.output)];
      for (const c of [ca, cb]) {
        assert.ok(c.stats.espOut >= 7 && c.stats.espIn >= 7, JSON.stringify(c.stats));
        const inbound = c.sas.find((s) => s.direction === "in")!;
        assert.ok(inbound.packets >= 7);
        assert.equal(inbound.icvFailures, 0);
      }
      // A's first ESP packet was sent again on the wire: B dropped and counted it, A saw none.
      assert.equal(cb.sas.find((s) => s.direction === "in")!.replayDrops, 1);
      assert.equal(ca.sas.find((s) => s.direction === "in")!.replayDrops, 0);
    } finally {
      if (capture !== undefined) {
        try {
          capture.kill("SIGKILL");
        } catch { /* already exited */ }
        await capture.status;
      }
      await Deno.remove(pcap).catch(() => {});
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
