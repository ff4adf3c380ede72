/**
 * Does the ESP crypto path allocate per packet? Runs N in-place operations on one packet buffer
 * through the libcrypto contexts (AES-GCM seal+open, AES-CBC encrypt+decrypt, HMAC-SHA-256-128)
 * in a child Deno with a 1 MiB young generation and `--trace-gc`, and reports the scavenges
 * each needed (0: nothing allocated per packet) and the CPU time per operation (getrusage).
 *
 * Usage: `deno run --allow-all tests/bench/packet_alloc.ts` (N, default 200000)
 * @module
 */

import process from "node:process";
import { createOpenSslBackend } from "../../src/crypto/openssl.ts";

const N = Number(Deno.env.get("N") ?? 200_000);
const KINDS = ["aead", "cbc", "hmac"] as const;

/** Runs `kind` N times in this process; returns CPU ns per operation. */
function child(kind: (typeof KINDS)[number]): number {
  const ssl = createOpenSslBackend()!;
  const buf = new Uint8Array(2048);
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array(8);
  const iv = new Uint8Array(16);
  const icv = new Uint8Array(16);
  const aead = ssl.aead("aes128gcm16", new Uint8Array(16))!;
  const cbc = ssl.cipher("aes128cbc", new Uint8Array(16))!;
  const mac = ssl.mac("hmac-sha256-128", new Uint8Array(32))!;
  const op = kind === "aead"
    ? () => {
      aead.seal(nonce, aad, buf, 24, 1400);
      aead.open(nonce, aad, buf, 24, 1400);
    }
    : kind === "cbc"
    ? () => {
      cbc.encrypt(iv, buf, 24, 1408);
      cbc.decrypt(iv, buf, 24, 1408);
    }
    : () => mac.computeInto(buf, 8, 1424, icv, 0);
  for (let i = 0; i < 1000; i++) op(); // warm-up: JIT, the views' first use
  console.log("--- start");
  const u0 = process.cpuUsage();
  for (let i = 0; i < N; i++) op();
  const u = process.cpuUsage(u0);
  console.log("--- end");
  return (u.user + u.system) * 1000 / N;
}

if (import.meta.main) {
  const kind = Deno.args[0] as (typeof KINDS)[number] | undefined;
  if (kind !== undefined) {
    console.log(`ns ${child(kind).toFixed(0)}`);
  } else {
    console.log(`${N} operations per kind, 1400-byte packets, 1 MiB young generation:`);
    for (const k of KINDS) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--v8-flags=--trace-gc,--max-semi-space-size=1",
          new URL(import.meta.url).pathname,
          k,
        ],
        stdout: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      const timed = text.slice(text.indexOf("--- start"), text.indexOf("--- end"));
      const scavenges = timed.split("\n").filter((l) => l.includes("Scavenge")).length;
      const ns = /^ns (\d+)/m.exec(text)?.[1] ?? "?";
      console.log(`${k.padEnd(5)} ${String(scavenges).padStart(4)} scavenges  ${ns} ns CPU per op`);
    }
  }
}
