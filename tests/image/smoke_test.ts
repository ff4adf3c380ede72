/**
 * Smoke test of the firmware image (tests/image/build.sh, rebuilt here from the current source):
 * the A/B layout, the x86_64 variant's launcher natively (output equal to the source run's), and
 * the aarch64 image under qemu-aarch64-static with Debian arm64 libraries
 * (tests/image/sysroot.sh): `version`, `selftest` with libcrypto (libssl3:arm64) and `selftest`
 * without it (software backend). The qemu tests are ignored, saying so, when qemu is missing.
 *
 * Needs network on first use (npm pack, Debian arm64 packages); run by make test as root through
 * tests/interop/image_test.ts, or alone: `deno test --allow-all tests/image`.
 * @module
 */

import assert from "node:assert/strict";
import { VERSION } from "../../src/version.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const QEMU = "qemu-aarch64-static";
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const dec = new TextDecoder();

/** Output of one finished command. */
interface Ran {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Ran> {
  const r = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? ROOT,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 300_000),
  }).output();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return undefined;
}

const qemu = onPath(QEMU);
const qemuNote = qemu === undefined ? ` (${QEMU} not installed: skipped)` : "";

/** The aarch64 Deno version the Makefile pins for the image. */
function aarch64Version(): string {
  const m = /^AARCH64_DENO_VERSION := (\S+)$/m.exec(Deno.readTextFileSync(`${ROOT}/Makefile`));
  if (m?.[1] === undefined) throw new Error("Makefile has no AARCH64_DENO_VERSION");
  return m[1];
}

let built: Promise<void> | undefined;
/** Builds build/image and build/image-x86_64 once per run, from the current source. */
function image(): Promise<void> {
  built ??= (async () => {
    const r = await run("bash", [
      "tests/image/build.sh",
      Deno.execPath(),
      Deno.version.deno,
      aarch64Version(),
    ]);
    assert.equal(r.code, 0, `image build failed:\n${r.out}${r.err}`);
  })();
  return built;
}

/** ELF e_machine of a file. */
async function elfMachine(path: string): Promise<number> {
  const f = await Deno.open(path);
  try {
    const head = new Uint8Array(20);
    assert.equal(await f.read(head), 20);
    assert.deepEqual([...head.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], `${path} is not ELF`);
    return head[18]! | (head[19]! << 8);
  } finally {
    f.close();
  }
}

/** Runs `fn` with a fresh, empty DENO_DIR (nothing cached: the bundle must need nothing). */
async function withDenoDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "bg-image-denodir-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Selftest table rows (algorithm → chosen backend) and header columns. */
function parseSelftest(out: string): { header: string[]; chosen: Map<string, string> } {
  // The table runs from the header to the first blank line (the offload section and the
  // verdict follow it).
  const lines = out.trimEnd().split("\n");
  const header = (lines[0] ?? "").trim().split(/\s+/);
  const chosen = new Map<string, string>();
  const end = lines.findIndex((l, i) => i > 0 && (l.trim() === "" || l.startsWith("selftest:")));
  for (const line of lines.slice(1, end < 0 ? -1 : end)) {
    const cells = line.trim().split(/\s+/);
    chosen.set(cells[0] ?? "", cells.at(-1) ?? "");
  }
  return { header, chosen };
}

Deno.test("image: A/B layout, runtimes of the right architecture, a self-contained bundle", async () => {
  await image();
  for (const [dir, machine] of [["build/image", EM_AARCH64], ["build/image-x86_64", EM_X86_64]]) {
    const base = `${ROOT}/${dir}`;
    assert.equal(await Deno.readLink(`${base}/current`), "slots/a");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(`${base}/slots/b`)), []);
    assert.equal(await elfMachine(`${base}/slots/a/deno`), machine);
    assert.ok(((await Deno.stat(`${base}/slots/a/bin/branchgate`)).mode ?? 0) & 0o100);
    const names = (await Array.fromAsync(Deno.readDir(`${base}/slots/a`))).map((e) => e.name);
    assert.ok(names.includes("branchgate.js"), names.join(" "));
    for (const name of names.filter((n) => n.endsWith(".js"))) {
      const text = await Deno.readTextFile(`${base}/slots/a/${name}`);
      // Everything bundled: no package, remote or source-file imports left; relative imports
      // (chunks) name files of the slot.
      assert.doesNotMatch(text, /(?:from|import\()\s*["'](?:npm|jsr|node_modules|https?):/, name);
      for (const m of text.matchAll(/(?:from|import\()\s*["']\.\/([^"']+)["']/g)) {
        assert.ok(names.includes(m[1] ?? ""), `${name} imports missing ./${m[1]}`);
      }
    }
  }
});

Deno.test("image x86_64: the launcher runs version and selftest as the source does", async () => {
  await image();
  const launcher = `${ROOT}/build/image-x86_64/current/bin/branchgate`;
  await withDenoDir(async (denoDir) => {
    const v = await run(launcher, ["version"], { cwd: "/", env: { DENO_DIR: denoDir } });
    assert.equal(v.code, 0, v.err);
    assert.equal(v.out, `branchgate ${VERSION}\n`);
    const s = await run(launcher, ["selftest"], { cwd: "/", env: { DENO_DIR: denoDir } });
    assert.equal(s.code, 0, s.out + s.err);
    const src = await run(Deno.execPath(), ["task", "-q", "branchgate", "selftest"]);
    assert.equal(src.code, 0, src.err);
    assert.equal(s.out, src.out);
    assert.match(s.out, /\nselftest: ok[^\n]*\n$/);
  });
});

/**
 * Runs the aarch64 image's launcher (unchanged) under qemu: a scratch slot holds copies of the
 * image's launcher and bundle files and, as `deno`, a script running the image's aarch64 Deno
 * through qemu with the library root `libRoot`.
 */
async function runAarch64(args: string[], libRoot: string): Promise<Ran> {
  const slot = `${ROOT}/build/image/slots/a`;
  const scratch = await Deno.makeTempDir({ prefix: "bg-image-qemu-" });
  try {
    await Deno.mkdir(`${scratch}/bin`);
    for await (const e of Deno.readDir(slot)) {
      if (e.isFile && e.name.endsWith(".js")) {
        await Deno.copyFile(`${slot}/${e.name}`, `${scratch}/${e.name}`);
      }
    }
    await Deno.copyFile(`${slot}/bin/branchgate`, `${scratch}/bin/branchgate`);
    await Deno.writeTextFile(`${scratch}/deno`, `#!/bin/sh\nexec ${qemu} ${slot}/deno "$@"\n`, {
      mode: 0o755,
    });
    return await withDenoDir((denoDir) =>
      run(`${scratch}/bin/branchgate`, args, {
        cwd: "/",
        env: { DENO_DIR: denoDir, QEMU_LD_PREFIX: libRoot },
      })
    );
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

let roots: Promise<{ full: string; bare: string }> | undefined;
/** The aarch64 library roots (with and without libssl3), fetched once. */
function libRoots(): Promise<{ full: string; bare: string }> {
  roots ??= (async () => {
    const r = await run("bash", ["tests/image/sysroot.sh"]);
    assert.equal(r.code, 0, `sysroot.sh failed:\n${r.err}`);
    const [full, bare] = r.out.trim().split("\n");
    assert.ok(full !== undefined && bare !== undefined, r.out);
    return { full, bare };
  })();
  return roots;
}

Deno.test({
  name: `image aarch64 under qemu: version${qemuNote}`,
  ignore: qemu === undefined,
  fn: async () => {
    await image();
    const r = await runAarch64(["version"], (await libRoots()).full);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `branchgate ${VERSION}\n`);
  },
});

Deno.test({
  name: `image aarch64 under qemu: selftest passes with libcrypto (libssl3:arm64)${qemuNote}`,
  ignore: qemu === undefined,
  fn: async () => {
    await image();
    const r = await runAarch64(["selftest"], (await libRoots()).full);
    assert.equal(r.code, 0, r.out + r.err);
    const { header, chosen } = parseSelftest(r.out);
    assert.deepEqual(header, ["algorithm", "libcrypto", "software", "chosen"]);
    for (const alg of ["aead:aes128gcm16", "aead:chacha20poly1305", "dh:14", "dh:19"]) {
      assert.equal(chosen.get(alg), "libcrypto", alg);
    }
    assert.match(r.out, /\nselftest: ok[^\n]*\n$/);
  },
});

Deno.test({
  name: `image aarch64 under qemu: selftest without libcrypto passes on software${qemuNote}`,
  ignore: qemu === undefined,
  fn: async () => {
    await image();
    const r = await runAarch64(["selftest"], (await libRoots()).bare);
    assert.equal(r.code, 0, r.out + r.err);
    const { header, chosen } = parseSelftest(r.out);
    assert.deepEqual(header, ["algorithm", "software", "chosen"]);
    assert.ok(chosen.size > 20);
    for (const [alg, backend] of chosen) assert.equal(backend, "software", alg);
    assert.match(r.out, /\nselftest: ok[^\n]*\n$/);
  },
});
