/**
 * `make bench` part 1: ESP encapsulation and decapsulation packets/s on one core, through the
 * SA database (selector lookup, framing, AEAD, replay window, inner policy check), driven by an
 * in-process packet generator. `openssl speed -evp` for the same cipher and size is measured in
 * the same run: the ratio is what to compare across machines.
 * Then (as root) the same through the real I/O path (io_part.ts): the data path (in the main
 * isolate; `BG_DATAPATH=worker`: in its Worker) on a TUN device and UDP sockets in a namespace,
 * loaded by a separate generator process.
 */

import { getCrypto } from "../../src/crypto/registry.ts";
import { MAX_ESP_HEADER, MAX_ESP_TRAILER, SaDatabase } from "../../src/esp/sad.ts";
import type { EspSaSpec } from "../../src/esp/sa_spec.ts";
import type { AeadAlg } from "../../src/crypto/types.ts";
import { runIoBench } from "./io_part.ts";
import { runTunnelBench } from "./tunnel.ts";

const SECONDS = 1;
const sel = (a: string, b: string) => ({
  startAddress: a,
  endAddress: b,
  protocol: 0,
  startPort: 0,
  endPort: 65535,
});

function spec(alg: AeadAlg, direction: "in" | "out"): EspSaSpec {
  const keyLen = alg === "aes128gcm16" ? 16 : 32;
  return {
    spi: 0x1234,
    direction,
    peer: "bench",
    childId: "bench",
    transform: { kind: "aead", alg },
    keyMaterial: new Uint8Array(keyLen + 4).fill(9),
    endpoints: { local: "192.0.2.1", remote: "192.0.2.2" },
    localSelectors: [
      direction === "out"
        ? sel("198.51.100.0", "198.51.100.255")
        : sel("203.0.113.0", "203.0.113.255"),
    ],
    remoteSelectors: [
      direction === "out"
        ? sel("203.0.113.0", "203.0.113.255")
        : sel("198.51.100.0", "198.51.100.255"),
    ],
    esn: false,
    replayWindow: 0, // the generator replays one stream per run; the window is measured in unit tests
    lifetime: { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 },
  };
}

function innerPacket(size: number): Uint8Array {
  const p = new Uint8Array(size);
  p[0] = 0x45;
  p[2] = size >> 8;
  p[3] = size & 0xff;
  p[9] = 17;
  p.set([198, 51, 100, 5], 12);
  p.set([203, 0, 113, 7], 16);
  return p;
}

async function opensslMBs(alg: AeadAlg, size: number): Promise<number> {
  const name = {
    aes128gcm16: "aes-128-gcm",
    aes256gcm16: "aes-256-gcm",
    chacha20poly1305: "chacha20-poly1305",
  }[alg];
  try {
    const r = await new Deno.Command("openssl", {
      args: ["speed", "-evp", name, "-bytes", String(size), "-seconds", "1", "-mr"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const line = new TextDecoder().decode(r.stdout).split("\n").find((l) => l.startsWith("+F:"));
    return line === undefined ? NaN : Number(line.split(":")[3]) / 1e6;
  } catch {
    return NaN;
  }
}

console.log("part 1: ESP through the SA database, in-process generator, one core");
console.log(
  "algorithm          bytes   encap pkt/s   decap pkt/s   encap MB/s   openssl MB/s   ratio",
);
const opensslPkts = new Map<string, number>(); // "alg/size" → openssl packets/s
for (const alg of ["aes128gcm16", "aes256gcm16", "chacha20poly1305"] as const) {
  for (const size of [64, 1400]) {
    const out = new SaDatabase(getCrypto());
    const inb = new SaDatabase(getCrypto());
    out.install(spec(alg, "out"), 0);
    inb.install(spec(alg, "in"), 0);
    const pkt = innerPacket(size);
    const buf = new Uint8Array(MAX_ESP_HEADER + size + MAX_ESP_TRAILER);

    let encaps = 0;
    let t = performance.now() + SECONDS * 1000;
    let espLen = 0;
    let espAt = 0;
    while (performance.now() < t) {
      for (let i = 0; i < 256; i++) {
        buf.set(pkt, MAX_ESP_HEADER);
        const r = out.encapsulate(buf, MAX_ESP_HEADER, size)!;
        espAt = r.offset;
        espLen = r.length;
      }
      encaps += 256;
    }
    // Decapsulate copies of one valid ESP packet (the window is off, see spec()).
    const esp = buf.slice(espAt, espAt + espLen);
    const work = new Uint8Array(espLen);
    let decaps = 0;
    let failures = 0;
    t = performance.now() + SECONDS * 1000;
    while (performance.now() < t) {
      for (let i = 0; i < 256; i++) {
        work.set(esp);
        if (inb.decapsulate(work, 0, espLen) === undefined) failures++;
      }
      decaps += 256;
    }
    if (failures > 0) throw new Error(`${alg}/${size}: ${failures} decapsulations failed`);
    const encapMBs = (encaps / SECONDS) * size / 1e6;
    const ref = await opensslMBs(alg, size);
    opensslPkts.set(`${alg}/${size}`, ref * 1e6 / size);
    console.log(
      `${alg.padEnd(18)} ${String(size).padStart(5)} ${
        Math.round(encaps / SECONDS).toLocaleString("en").padStart(13)
      } ${Math.round(decaps / SECONDS).toLocaleString("en").padStart(13)} ${
        encapMBs.toFixed(1).padStart(12)
      } ${ref.toFixed(1).padStart(14)} ${(encapMBs / ref).toFixed(2).padStart(7)}`,
    );
  }
}

// The outbound lookup with 100 tunnels (/32 selectors each, the packet's SA installed first, so
// a newest-first scan would look at all 100) against one SA, same cipher and size.
{
  const size = 1400;
  const rate = (db: SaDatabase) => {
    const buf = new Uint8Array(MAX_ESP_HEADER + size + MAX_ESP_TRAILER);
    const pkt = innerPacket(size);
    let n = 0;
    const t = performance.now() + SECONDS * 1000;
    while (performance.now() < t) {
      for (let i = 0; i < 256; i++) {
        buf.set(pkt, MAX_ESP_HEADER);
        if (db.encapsulate(buf, MAX_ESP_HEADER, size) === undefined) throw new Error("no SA");
      }
      n += 256;
    }
    return n / SECONDS;
  };
  const one = new SaDatabase(getCrypto());
  one.install(spec("aes128gcm16", "out"), 0);
  const many = new SaDatabase(getCrypto());
  for (let i = 0; i < 100; i++) {
    const s = spec("aes128gcm16", "out");
    const dst = i === 0 ? "203.0.113.7" : `203.0.113.${100 + i}`;
    many.install({ ...s, spi: 0x2000 + i, remoteSelectors: [sel(dst, dst)] }, 0);
  }
  const r1 = rate(one);
  const r100 = rate(many);
  console.log(
    `aes128gcm16 1400 B encap, 100 SAs installed vs 1: ${
      Math.round(r100).toLocaleString("en")
    } vs ${Math.round(r1).toLocaleString("en")} pkt/s (ratio ${(r100 / r1).toFixed(2)})`,
  );
}

console.log(
  `\npart 1 with I/O: the data path (${
    Deno.env.get("BG_DATAPATH") === "worker" ? "its Worker" : "main isolate"
  }) on a TUN device and UDP sockets (GSO), one core`,
);
const io = await runIoBench();
if (typeof io === "string") {
  console.log(io);
} else {
  const plain = io.find((r) => r.what === "plain UDP");
  console.log(
    "direction  algorithm      bytes      pkt/s   core use   pkt/s per core   ratio to openssl",
  );
  for (const r of io.filter((r) => r !== plain)) {
    const perCore = r.cpu > 0 ? r.processed / r.cpu : NaN;
    const ref = opensslPkts.get(`${r.transform}/${r.size}`) ?? NaN;
    console.log(
      `${r.what.padEnd(10)} ${r.transform.padEnd(13)} ${String(r.size).padStart(6)} ${
        Math.round(r.processed).toLocaleString("en").padStart(10)
      } ${(100 * r.cpu).toFixed(0).padStart(9)}% ${
        Math.round(perCore).toLocaleString("en").padStart(16)
      } ${(perCore / ref).toFixed(2).padStart(18)}`,
    );
  }
  if (plain !== undefined) {
    console.log(
      `reference: the generator pushes ${
        Math.round(plain.generated).toLocaleString("en")
      } plain UDP datagrams/s of ${plain.size} bytes through loopback (sendmmsg + GSO)`,
    );
  }
}

console.log(
  "\nparts 2 and 3: iperf3 through a tunnel between two namespaces (ESP-in-UDP, AES-GCM-16)",
);
const tunnel = await runTunnelBench();
if (typeof tunnel === "string") {
  console.log(tunnel);
} else {
  const mbit = (bps: number) => (bps / 1e6).toFixed(0).padStart(8);
  const s = tunnel.strongswan;
  const b = tunnel.branchgate;
  console.log("tunnel                          TCP Mbit/s   UDP Mbit/s   UDP loss");
  console.log(
    `strongSwan <-> strongSwan        ${mbit(s.tcp)}     ${mbit(s.udp)}   ${s.udpLoss.toFixed(1)}%`,
  );
  console.log(
    `branchgate <-> strongSwan        ${mbit(b.tcp)}     ${mbit(b.udp)}   ${b.udpLoss.toFixed(1)}%`,
  );
  console.log(
    `ratio branchgate / strongSwan    ${(b.tcp / s.tcp).toFixed(2).padStart(8)}     ${
      (b.udp / s.udp).toFixed(2).padStart(8)
    }`,
  );
  const r = tunnel.rssKiB;
  console.log(
    `branchgate data-path process RSS: idle ${(r.idle / 1024).toFixed(1)} MiB, one tunnel ${
      (r.tunnel / 1024).toFixed(1)
    } MiB, after the load ${(r.afterLoad / 1024).toFixed(1)} MiB`,
  );
}
