/**
 * Writes the code part of one image slot: `branchgate.js` (src/main.ts bundled with its npm
 * packages by `deno bundle`), one bundled file per Worker module it starts (the Worker URL in
 * the bundle rewritten to that file), and the launcher `bin/branchgate`.
 *
 * Usage (from the project root): `deno run --allow-all tests/image/bundle.ts DENO SLOT_DIR`
 * @module
 */

import {
  findWorkers,
  ImageError,
  launcherScript,
  rewriteWorkers,
  taskPermissions,
} from "./bundle_lib.ts";

/** Bundles `entry` into `slotDir/output` with `deno bundle`; returns the bundle text. */
async function denoBundle(deno: string, entry: string, file: string): Promise<string> {
  const out = await new Deno.Command(deno, {
    args: ["bundle", "--frozen", "--platform", "deno", "--packages", "bundle", "-o", file, entry],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim();
    throw new ImageError(`deno bundle ${entry} failed:\n${text}`);
  }
  return await Deno.readTextFile(file);
}

/**
 * Bundles `entry` (project-relative, run from the project root) into `slotDir/output` and,
 * recursively, every Worker module it starts; returns the file names written into `slotDir`.
 */
export async function bundleTree(
  deno: string,
  slotDir: string,
  entry: string,
  output: string,
  seen: Set<string>,
): Promise<string[]> {
  seen.add(entry);
  const file = `${slotDir}/${output}`;
  const text = await denoBundle(deno, entry, file);
  const workers = findWorkers(text);
  if (workers.length > 0) await Deno.writeTextFile(file, rewriteWorkers(text, workers));
  const files = [output];
  for (const w of workers) {
    if (seen.has(w.source)) continue;
    files.push(...await bundleTree(deno, slotDir, w.source, w.output, seen));
  }
  return files;
}

async function main(args: string[]): Promise<number> {
  const [deno, slotDir] = args;
  if (deno === undefined || slotDir === undefined || args.length !== 2) {
    console.error("usage: bundle.ts DENO SLOT_DIR");
    return 2;
  }
  try {
    const permissions = taskPermissions(await Deno.readTextFile("deno.json"));
    await Deno.mkdir(`${slotDir}/bin`, { recursive: true });
    const files = await bundleTree(deno, slotDir, "src/main.ts", "branchgate.js", new Set());
    await Deno.writeTextFile(`${slotDir}/bin/branchgate`, launcherScript(permissions), {
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
