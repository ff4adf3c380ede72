/**
 * Writes the code part of one image slot: `branchgate.js` (src/main.ts bundled with its npm
 * packages by `deno bundle`) with one chunk file per lazily imported command (code splitting:
 * `version` does not load the crypto code), one bundled file per Worker module they start (the
 * Worker URL rewritten to that file), and the launcher `bin/branchgate`.
 *
 * Usage (from the project root): `deno run --allow-all tests/image/bundle.ts DENO SLOT_DIR`
 * @module
 */

import {
  asciiOnly,
  findWorkers,
  ImageError,
  launcherScript,
  rewriteWorkers,
  taskPermissions,
  taskV8Flags,
} from "./bundle_lib.ts";

/** Runs `deno bundle` with `args` (output options and entry last). */
async function denoBundle(deno: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(deno, {
    args: ["bundle", "--frozen", "--platform", "deno", "--packages", "bundle", ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim();
    throw new ImageError(`deno bundle ${args.at(-1)} failed:\n${text}`);
  }
}

/**
 * Bundles `entry` into `slotDir` as `output` plus, when `split`, one chunk file per module
 * loaded by dynamic `import()` (so a command loads only its own code, as from source), and
 * returns the file names written. Chunk names come from `deno bundle` (content hashes).
 */
async function bundleFiles(
  deno: string,
  slotDir: string,
  entry: string,
  output: string,
  split: boolean,
): Promise<string[]> {
  if (!split) {
    await denoBundle(deno, ["-o", `${slotDir}/${output}`, entry]);
    return [output];
  }
  const tmp = await Deno.makeTempDir({ dir: slotDir, prefix: ".bundle-" });
  try {
    await denoBundle(deno, ["--code-splitting", "--outdir", tmp, entry]);
    const entryOut = (entry.split("/").at(-1) ?? entry).replace(/\.ts$/, ".js");
    const names: string[] = [];
    for await (const e of Deno.readDir(tmp)) if (e.isFile) names.push(e.name);
    if (!names.includes(entryOut)) throw new ImageError(`deno bundle wrote no ${entryOut}`);
    const files: string[] = [];
    for (const name of names.sort()) {
      const text = await Deno.readTextFile(`${tmp}/${name}`);
      if (name !== entryOut && text.includes(`"./${entryOut}"`)) {
        throw new ImageError(`chunk ${name} imports the entry ${entryOut}; cannot rename it`);
      }
      const target = name === entryOut ? output : name;
      await Deno.rename(`${tmp}/${name}`, `${slotDir}/${target}`);
      files.push(target);
    }
    return [output, ...files.filter((f) => f !== output)];
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/**
 * Bundles `entry` (project-relative, run from the project root) into `slotDir/output` (with
 * chunk files when `split`) and, recursively, every Worker module any of them starts (each one
 * file); points each Worker URL at its file and returns the file names written into `slotDir`.
 */
export async function bundleTree(
  deno: string,
  slotDir: string,
  entry: string,
  output: string,
  split: boolean,
  seen: Set<string> = new Set(),
): Promise<string[]> {
  seen.add(entry);
  const files = await bundleFiles(deno, slotDir, entry, output, split);
  const workers = [];
  for (const name of files) {
    const path = `${slotDir}/${name}`;
    const text = await Deno.readTextFile(path);
    const refs = findWorkers(text);
    await Deno.writeTextFile(path, asciiOnly(refs.length > 0 ? rewriteWorkers(text, refs) : text));
    workers.push(...refs);
  }
  const all = [...files];
  for (const w of workers) {
    if (seen.has(w.source)) continue;
    all.push(...await bundleTree(deno, slotDir, w.source, w.output, false, seen));
  }
  return all;
}

async function main(args: string[]): Promise<number> {
  const [deno, slotDir] = args;
  if (deno === undefined || slotDir === undefined || args.length !== 2) {
    console.error("usage: bundle.ts DENO SLOT_DIR");
    return 2;
  }
  try {
    const denoJson = await Deno.readTextFile("deno.json");
    const permissions = taskPermissions(denoJson);
    const v8Flags = taskV8Flags(denoJson);
    await Deno.mkdir(`${slotDir}/bin`, { recursive: true });
    const files = await bundleTree(deno, slotDir, "src/main.ts", "branchgate.js", true);
    await Deno.writeTextFile(`${slotDir}/bin/branchgate`, launcherScript(permissions, v8Flags), {
      mode: 0o755,
    });
    await Deno.chmod(`${slotDir}/bin/branchgate`, 0o755);
    console.log(`bundled ${files.join(", ")}; launcher permissions: ${permissions.join(" ")}`);
    return 0;
  } catch (e) {
    if (!(e instanceof ImageError || e instanceof Deno.errors.NotFound)) throw e;
    console.error(`image bundle: ${e.message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
