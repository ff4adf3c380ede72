/**
 * `make bench-crypto`: AEAD seal throughput per backend at 64 and 1400 bytes, next to
 * `openssl speed -evp` measured in the same run, as a ratio (the machine is noisy; compare
 * ratios, not absolute numbers).
 */

import { availableBackends } from "../vectors/backends.ts";
import type { AeadAlg } from "../../src/crypto/types.ts";
import { AEAD_KEY_LENGTH } from "../../src/crypto/params.ts";

const ALGS: AeadAlg[] = ["aes128gcm16", "aes256gcm16", "chacha20poly1305"];
const SIZES = [64, 1400];
const SECONDS = 0.5;
const OPENSSL_NAME: Record<AeadAlg, string> = {
  aes128gcm16: "aes-128-gcm",
  aes256gcm16: "aes-256-gcm",
  chacha20poly1305: "chacha20-poly1305",
};

/** Packets per second of in-place seal for one backend, algorithm and size. */
function measure(seal: (buf: Uint8Array, len: number, n: Uint8Array) => void, size: number) {
  const buf = new Uint8Array(size + 16);
  const nonce = new Uint8Array(12);
  let packets = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) {
      nonce[11] = i; // a fresh nonce per packet, as ESP does with its IV
      seal(buf, size, nonce);
    }
    packets += 256;
  }
  return packets / SECONDS;
}

/** bytes/s that `openssl speed -evp` reports for one algorithm and size, or NaN. */
async function opensslSpeed(alg: AeadAlg, size: number): Promise<number> {
  try {
    const out = await new Deno.Command("openssl", {
      args: ["speed", "-evp", OPENSSL_NAME[alg], "-bytes", String(size), "-seconds", "1", "-mr"],
      stdout: "piped",
      stderr: "null",
    }).output();
    // -mr: "+F:<n>:<alg>:<bytes/s for each size>"
    const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith("+F:"));
    return line === undefined ? NaN : Number(line.split(":")[3]);
  } catch {
    return NaN;
  }
}

const aad = new Uint8Array(8);
const rows: string[] = [];
rows.push(
  "algorithm          bytes  backend     packets/s      MB/s   openssl MB/s  ratio",
);
for (const alg of ALGS) {
  for (const size of SIZES) {
    const ref = await opensslSpeed(alg, size) / 1e6;
    for (const b of availableBackends()) {
      const ctx = b.aead(alg, new Uint8Array(AEAD_KEY_LENGTH[alg]).fill(7));
      if (ctx === undefined) continue;
      const pps = measure((buf, len, n) => ctx.seal(n, aad, buf, 0, len), size);
      ctx.dispose();
      const mbs = pps * size / 1e6;
      rows.push(
        `${alg.padEnd(18)} ${String(size).padStart(5)}  ${b.name.padEnd(10)} ${
          Math.round(pps).toLocaleString("en").padStart(10)
        } ${mbs.toFixed(1).padStart(9)} ${ref.toFixed(1).padStart(14)}  ${(mbs / ref).toFixed(2)}`,
      );
    }
  }
}
console.log(rows.join("\n"));
