/**
 * `make bench-crypto`: ESP-style packet protection throughput per backend at 64 and 1400
 * bytes, for each AEAD (seal in place) and each cipher+MAC suite (CBC encrypt in place, then the
 * truncated MAC over header, IV and ciphertext, RFC 4303 §3.3.2), next to `openssl speed`
 * measured in the same run, as a ratio (the machine is noisy; compare ratios, not absolute
 * numbers). For a cipher+MAC suite the openssl figure combines `-evp <cipher>` and
 * `-hmac <hash>` as 1/(1/cipher + 1/mac); AES-XCBC is referenced to aes-128-cbc (same AES work).
 *
 * The cryptodev rows measure /dev/crypto when the machine has it (a router's engine), else the
 * fake device of tests/fakes/cryptodev (OpenSSL behind an ioctl: it shows the per-operation
 * cost of the path, not an engine).
 */

import { availableBackends as registryBackends } from "../../src/crypto/registry.ts";
import type { CryptodevBackend } from "../../src/crypto/cryptodev.ts";
import { availableBackends as withFakeDevice } from "../vectors/backends.ts";
import type { AeadAlg, CipherAlg, CryptoBackend, MacAlg } from "../../src/crypto/types.ts";
import {
  AEAD_KEY_LENGTH,
  CIPHER_BLOCK,
  CIPHER_KEY_LENGTH,
  MAC_HASH,
  MAC_PARAMS,
} from "../../src/crypto/params.ts";

const SIZES = [64, 1400];
const SECONDS = 0.5;
const ESP_HEADER = 8; // SPI + sequence number

const AEADS: AeadAlg[] = ["aes128gcm16", "aes256gcm16", "chacha20poly1305"];
const SUITES: [CipherAlg, MacAlg][] = [
  ["aes128cbc", "hmac-sha1-96"],
  ["aes128cbc", "hmac-sha256-128"],
  ["aes256cbc", "hmac-sha512-256"],
  ["aes128cbc", "aes-xcbc-96"],
  ["3descbc", "hmac-sha1-96"],
];
const OPENSSL_EVP: Record<AeadAlg | CipherAlg, string> = {
  aes128gcm16: "aes-128-gcm",
  aes256gcm16: "aes-256-gcm",
  chacha20poly1305: "chacha20-poly1305",
  aes128cbc: "aes-128-cbc",
  aes192cbc: "aes-192-cbc",
  aes256cbc: "aes-256-cbc",
  "3descbc": "des-ede3-cbc",
};

/** Packets per second of `op` (one packet per call) over SECONDS. */
function measure(op: (nonce: Uint8Array) => void): number {
  const nonce = new Uint8Array(12);
  let packets = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) {
      nonce[11] = i; // a fresh nonce/IV per packet, as ESP does
      op(nonce);
    }
    packets += 256;
  }
  return packets / SECONDS;
}

const speedCache = new Map<string, number>();

/** bytes/s that `openssl speed` reports (args e.g. ["-evp", "aes-128-cbc"]), or NaN. */
async function opensslSpeed(args: string[], size: number): Promise<number> {
  const key = `${args.join(" ")} ${size}`;
  const cached = speedCache.get(key);
  if (cached !== undefined) return cached;
  let value = NaN;
  try {
    const out = await new Deno.Command("openssl", {
      args: ["speed", ...args, "-bytes", String(size), "-seconds", "1", "-mr"],
      stdout: "piped",
      stderr: "null",
    }).output();
    // -mr: "+F:<n>:<alg>:<bytes/s>"
    const line = new TextDecoder().decode(out.stdout).split("\n").find((l) => l.startsWith("+F:"));
    if (line !== undefined) value = Number(line.split(":")[3]);
  } catch {
    // openssl missing: the ratio column shows NaN
  }
  speedCache.set(key, value);
  return value;
}

/** The openssl reference in MB/s for a cipher+MAC suite: both passes over the data. */
async function suiteReference(cipher: CipherAlg, mac: MacAlg, size: number): Promise<number> {
  const enc = await opensslSpeed(["-evp", OPENSSL_EVP[cipher]], size);
  const hash = MAC_HASH[mac];
  const auth = await opensslSpeed(
    hash === undefined ? ["-evp", "aes-128-cbc"] : ["-hmac", hash],
    size,
  );
  return 1 / (1 / enc + 1 / auth) / 1e6;
}

/** One AEAD seal per packet, in place. */
function aeadOp(b: CryptoBackend, alg: AeadAlg, size: number) {
  const ctx = b.aead(alg, new Uint8Array(AEAD_KEY_LENGTH[alg]).fill(7));
  if (ctx === undefined) return undefined;
  const buf = new Uint8Array(size + 16);
  const aad = new Uint8Array(ESP_HEADER);
  return { op: (n: Uint8Array) => ctx.seal(n, aad, buf, 0, size), done: () => ctx.dispose() };
}

/** One CBC encryption plus one truncated MAC per packet, in place, as ESP lays them out. */
function suiteOp(b: CryptoBackend, cipher: CipherAlg, mac: MacAlg, size: number) {
  const block = CIPHER_BLOCK[cipher];
  const c = b.cipher(cipher, new Uint8Array(CIPHER_KEY_LENGTH[cipher]).fill(7));
  const m = b.mac(mac, new Uint8Array(MAC_PARAMS[mac].keyLength).fill(9));
  if (c === undefined || m === undefined) return undefined;
  const data = Math.ceil(size / block) * block; // ESP pads to the block size
  const icv = MAC_PARAMS[mac].icvLength;
  const buf = new Uint8Array(ESP_HEADER + block + data + icv);
  const iv = buf.subarray(ESP_HEADER, ESP_HEADER + block);
  const start = ESP_HEADER + block;
  return {
    op: (n: Uint8Array) => {
      iv[0] = n[11]!;
      c.encrypt(iv, buf, start, data);
      m.computeInto(buf, 0, start + data, buf, start + data);
    },
    done: () => {
      c.dispose();
      m.dispose();
    },
  };
}

function row(name: string, size: number, backend: string, pps: number, ref: number): string {
  const mbs = pps * size / 1e6;
  return `${name.padEnd(30)} ${String(size).padStart(5)}  ${backend.padEnd(10)} ${
    Math.round(pps).toLocaleString("en").padStart(10)
  } ${mbs.toFixed(1).padStart(9)} ${ref.toFixed(1).padStart(13)}  ${(mbs / ref).toFixed(2)}`;
}

const real = await registryBackends();
const onDevice = real.some((b) => b.name === "cryptodev");
const backends = onDevice ? real : await withFakeDevice();
const dev = backends.find((b) => b.name === "cryptodev") as CryptodevBackend | undefined;
if (dev !== undefined) {
  const info = dev.offers.map((o) => o.info).find((i) => !("error" in i));
  const what = info === undefined || "error" in info
    ? "no algorithm"
    : `${info.cipherDriver || info.macDriver}, ${info.hardware ? "hardware" : "software"} driver`;
  console.log(
    `cryptodev: ${onDevice ? "/dev/crypto" : "fake device"} (${what})`,
  );
}
console.log(
  "suite                          bytes  backend     packets/s      MB/s  openssl MB/s  ratio",
);
for (const alg of AEADS) {
  for (const size of SIZES) {
    const ref = await opensslSpeed(["-evp", OPENSSL_EVP[alg]], size) / 1e6;
    for (const b of backends) {
      const t = aeadOp(b, alg, size);
      if (t === undefined) continue;
      console.log(row(alg, size, b.name, measure(t.op), ref));
      t.done();
    }
  }
}
for (const [cipher, mac] of SUITES) {
  for (const size of SIZES) {
    const ref = await suiteReference(cipher, mac, size);
    for (const b of backends) {
      const t = suiteOp(b, cipher, mac, size);
      if (t === undefined) continue;
      console.log(row(`${cipher}+${mac}`, size, b.name, measure(t.op), ref));
      t.done();
    }
  }
}
