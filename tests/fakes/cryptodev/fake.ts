/**
 * The fake /dev/crypto for tests (fake_cryptodev.c): builds it with gcc and OpenSSL on first use
 * (never skipped: a missing compiler is a test failure naming the fix), and reads and steers
 * its shared state file — the "device path" given to branchgate — while branchgate runs.
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Word indices of the state file (keep in step with fake_cryptodev.c). */
export const WORDS = {
  magic: 0,
  sessions: 1,
  freed: 2,
  ops: 3,
  failed: 4,
  bytes: 5,
  aeadEncrypt: 6,
  aeadDecrypt: 7,
  cbcEncrypt: 8,
  cbcDecrypt: 9,
  mac: 10,
  fullSize: 11,
  maxLength: 12,
  badTag: 13,
  opens: 14,
  delayNs: 16,
  fail: 17,
  failAfter: 18,
  hardware: 19,
  corrupt: 20,
} as const;

/** A counter or control word name. */
export type Word = keyof typeof WORDS;

let built: string | undefined;

/** Builds the fake (once per process) and returns the path of the shared library. */
export function fakeLibrary(): string {
  if (built !== undefined) return built;
  const r = new Deno.Command("bash", { args: [join(HERE, "build.sh")], stderr: "piped" })
    .outputSync();
  const err = new TextDecoder().decode(r.stderr);
  if (!r.success) {
    throw new Error(`building the fake /dev/crypto failed (needs gcc and libssl-dev): ${err}`);
  }
  return built = new TextDecoder().decode(r.stdout).trim();
}

/** One fake device: its state file, used as the device path. */
export class FakeDevice {
  /** A fresh state file in `dir` (a temp dir by default). */
  constructor(readonly path: string = join(Deno.makeTempDirSync(), "fake-crypto")) {}

  /** Offload options that open this fake device (in this process). */
  offload(
    mode: "auto" | "cryptodev" | "off",
  ): { mode: typeof mode; device: string; library: string } {
    return { mode, device: this.path, library: fakeLibrary() };
  }

  /** The environment a subprocess needs to use the fake (this process's env is left alone). */
  env(): Record<string, string> {
    return { BRANCHGATE_CRYPTODEV_LIB: fakeLibrary() };
  }

  /** Reads one word (0 before the device was first opened). */
  get(w: Word): number {
    try {
      const b = Deno.readFileSync(this.path);
      if (b.length < 8 * (WORDS[w] + 1)) return 0;
      return Number(new DataView(b.buffer).getBigUint64(8 * WORDS[w], true));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0;
      throw e;
    }
  }

  /** Reads every word. */
  snapshot(): Record<Word, number> {
    return Object.fromEntries(Object.keys(WORDS).map((w) => [w, this.get(w as Word)])) as Record<
      Word,
      number
    >;
  }

  /** Writes a control (or resets a counter) in the shared file; the fake sees it at once. */
  set(w: Word, value: number): void {
    const f = Deno.openSync(this.path, { read: true, write: true, create: true });
    try {
      if (f.statSync().size < 256) f.truncateSync(256);
      const word = new Uint8Array(8);
      new DataView(word.buffer).setBigUint64(0, BigInt(value), true);
      f.seekSync(8 * WORDS[w], Deno.SeekMode.Start);
      f.writeSync(word);
    } finally {
      f.close();
    }
  }
}
