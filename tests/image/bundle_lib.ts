/**
 * Pure helpers of the image bundler (tests/image/bundle.ts): the permissions of the
 * `branchgate` task, the Worker modules a bundle starts, and the launcher script.
 * Nothing here touches the file system.
 * @module
 */

/** A build problem with a one-line explanation (bad deno.json, a Worker the image cannot map). */
export class ImageError extends Error {
  /** Creates the error with its one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "ImageError";
  }
}

/**
 * The `--allow-*` flags of deno.json's `tasks.branchgate` (the one way the program is started),
 * in their order. Throws {@link ImageError} when the task is missing or grants nothing.
 */
export function taskPermissions(denoJsonText: string): string[] {
  let config: unknown;
  try {
    config = JSON.parse(denoJsonText);
  } catch (e) {
    throw new ImageError(`deno.json is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const tasks = (config as { tasks?: unknown } | null)?.tasks;
  const task = typeof tasks === "object" && tasks !== null
    ? (tasks as Record<string, unknown>)["branchgate"]
    : undefined;
  if (typeof task !== "string") throw new ImageError("deno.json has no string tasks.branchgate");
  const flags = task.split(/\s+/).filter((w) => w.startsWith("--allow-"));
  if (flags.length === 0) throw new ImageError("tasks.branchgate grants no --allow-* permission");
  for (const f of flags) {
    if (!/^--allow-[a-z-]+(=[\w.,:/@-]+)?$/.test(f)) {
      throw new ImageError(`tasks.branchgate: unexpected permission flag '${f}'`);
    }
  }
  return flags;
}

/**
 * The `--v8-flags=…` words of deno.json's `tasks.branchgate` (the heap limits the gateway runs
 * with; README "Performance"), in their order. Throws {@link ImageError} on a malformed one.
 */
export function taskV8Flags(denoJsonText: string): string[] {
  taskPermissions(denoJsonText); // the same checks of the task itself
  const task = (JSON.parse(denoJsonText) as { tasks: { branchgate: string } }).tasks.branchgate;
  const flags = task.split(/\s+/).filter((w) => w.startsWith("--v8-flags"));
  for (const f of flags) {
    if (!/^--v8-flags=--[a-z-]+(=[\w.]+)?(,--[a-z-]+(=[\w.]+)?)*$/.test(f)) {
      throw new ImageError(`tasks.branchgate: unexpected V8 flags '${f}'`);
    }
  }
  return flags;
}

/** One `new Worker(new URL("./x.ts", import.meta.url)…)` found in a bundle. */
export interface WorkerRef {
  /** Offset of the quoted specifier (including its opening quote) in the bundle text. */
  readonly offset: number;
  /** The specifier as written, e.g. `./worker.ts`. */
  readonly specifier: string;
  /** The worker's source module, relative to the project root, e.g. `src/esp/worker.ts`. */
  readonly source: string;
  /** The file name the bundled worker gets beside the bundle, e.g. `esp_worker.js`. */
  readonly output: string;
}

const WORKER_URL =
  /new Worker\(\s*new URL\(\s*(["'])(\.{1,2}\/[\w./-]+\.ts)\1\s*,\s*import\.meta\.url\s*\)/g;
/** esbuild's comment at the start of each bundled module: `// src/esp/datapath.ts`. */
const MODULE_MARK = /^\/\/ ([\w.@/-]+\.[cm]?[jt]s)$/gm;

/** Joins a relative specifier to the directory of `fromModule` (both project-relative). */
function resolveRelative(fromModule: string, specifier: string): string {
  const parts = fromModule.split("/").slice(0, -1);
  for (const seg of specifier.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") {
      if (parts.length === 0) throw new ImageError(`${specifier} leaves the project`);
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join("/");
}

/** `src/esp/worker.ts` → `esp_worker.js` (unique per source; `src/` dropped). */
export function workerOutputName(source: string): string {
  return source.replace(/^src\//, "").replace(/\.ts$/, "").replaceAll("/", "_") + ".js";
}

/**
 * Every Worker the bundle starts from a module URL relative to its source file, with the source
 * module it names (found from esbuild's per-module comment before it). Throws
 * {@link ImageError} for any other `new Worker(` (the image could not ship its module).
 */
export function findWorkers(bundle: string): WorkerRef[] {
  const marks = [...bundle.matchAll(MODULE_MARK)].map((m) => ({ at: m.index, path: m[1] ?? "" }));
  const refs: WorkerRef[] = [];
  for (const m of bundle.matchAll(WORKER_URL)) {
    const specifier = m[2] ?? "";
    const owner = marks.filter((k) => k.at < m.index).at(-1);
    if (owner === undefined) {
      throw new ImageError(`Worker '${specifier}' appears before any module comment`);
    }
    const source = resolveRelative(owner.path, specifier);
    refs.push({
      offset: m.index + m[0].indexOf(m[1] ?? '"'),
      specifier,
      source,
      output: workerOutputName(source),
    });
  }
  const all = [...bundle.matchAll(/new Worker\(/g)].length;
  if (all !== refs.length) {
    throw new ImageError(
      `${
        all - refs.length
      } Worker(s) not started as new Worker(new URL("./x.ts", import.meta.url))`,
    );
  }
  return refs;
}

/**
 * `js` with every non-ASCII UTF-16 unit written as a `\uXXXX` escape (valid in strings,
 * templates, regular expressions, identifiers and comments alike). V8 keeps a module's source
 * text for its lifetime, as two bytes per character once one character is not Latin-1: an
 * ASCII bundle holds half the memory.
 */
export function asciiOnly(js: string): string {
  return js.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The bundle with each worker specifier replaced by `./<output>` (the file beside it). */
export function rewriteWorkers(bundle: string, refs: readonly WorkerRef[]): string {
  let out = "";
  let at = 0;
  for (const r of [...refs].sort((a, b) => a.offset - b.offset)) {
    const quoted = bundle.slice(r.offset, r.offset + r.specifier.length + 2);
    if (quoted.slice(1, -1) !== r.specifier) {
      throw new ImageError(`worker reference at ${r.offset} does not match '${r.specifier}'`);
    }
    out += bundle.slice(at, r.offset) + JSON.stringify(`./${r.output}`);
    at = r.offset + quoted.length;
  }
  return out + bundle.slice(at);
}

/**
 * The slot's `bin/branchgate`: runs the slot's `deno` on the slot's `branchgate.js` with exactly
 * `permissions` (and the task's `v8Flags`) in one process (`exec`), ignoring any deno.json of the working directory. POSIX sh (busybox on routers).
 */
export function launcherScript(
  permissions: readonly string[],
  v8Flags: readonly string[] = [],
): string {
  const flags = [...v8Flags, ...permissions].join(" ");
  return [
    "#!/bin/sh",
    "# branchgate launcher of one image slot: the slot's deno runs the slot's bundle with the",
    "# permissions of deno.json tasks.branchgate (written by tests/image/build.sh). No V8 code",
    "# cache: nothing written under ~/.cache on the router, 1.5 MiB less resident, same start.",
    'slot=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd) || exit 1',
    "export DENO_NO_UPDATE_CHECK=1",
    `exec "$slot/deno" run --no-config --no-lock --no-prompt --no-code-cache ${flags} \\`,
    '  "$slot/branchgate.js" "$@"',
    "",
  ].join("\n");
}
