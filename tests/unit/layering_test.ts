/**
 * Layering rules that must stay true, checked on the real module graph from `deno info --json`
 * (cli → daemon/update/shell → ike → esp → crypto → hw): only hw/ calls FFI (Deno.dlopen), the
 * data path (src/esp/) never depends, even transitively or for types only, on the control plane
 * (src/ike/), the IKE core never depends on the layers above it (shell, daemon, cli, update),
 * crypto (with its self-test) never on anything above it, the shell never on the daemon: the
 * control protocol (src/control/) is a module of its own that both import.
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Module graph: repository-relative path → paths it imports (code or types). */
type Graph = Map<string, Set<string>>;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

function localPath(specifier: string): string | undefined {
  return specifier.startsWith("file://") ? relative(ROOT, fileURLToPath(specifier)) : undefined;
}

/** Adds the graph `deno info --json <entry>` reports to `graph`. */
async function addInfo(graph: Graph, entry: string): Promise<void> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", join(ROOT, entry)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  const info = JSON.parse(new TextDecoder().decode(r.stdout)) as { modules: InfoModule[] };
  for (const m of info.modules) {
    const from = localPath(m.specifier);
    if (from === undefined) continue;
    const deps = graph.get(from) ?? new Set<string>();
    for (const d of m.dependencies ?? []) {
      for (const s of [d.code?.specifier, d.type?.specifier]) {
        const to = s === undefined ? undefined : localPath(s);
        if (to !== undefined) deps.add(to);
      }
    }
    graph.set(from, deps);
  }
}

/** The graph of src/main.ts plus every src module it does not reach (Worker entry points…). */
async function sourceGraph(): Promise<Graph> {
  const graph: Graph = new Map();
  await addInfo(graph, "src/main.ts");
  for (const f of sourceFiles("src")) if (!graph.has(f)) await addInfo(graph, f);
  return graph;
}

/** Every module reachable from `start` (excluding itself unless on a cycle). */
export function reachable(graph: Graph, start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(graph.get(start) ?? [])];
  while (todo.length > 0) {
    const m = todo.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    todo.push(...(graph.get(m) ?? []));
  }
  return seen;
}

/** For each module under `from`, the modules under `forbidden` it reaches. */
export function violations(graph: Graph, from: string, forbidden: string): string[] {
  const out: string[] = [];
  for (const m of graph.keys()) {
    if (!m.startsWith(from)) continue;
    for (const r of reachable(graph, m)) if (r.startsWith(forbidden)) out.push(`${m} -> ${r}`);
  }
  return out;
}

Deno.test("only files under hw/ call Deno.dlopen", () => {
  const offenders = [...sourceFiles("src"), ...sourceFiles("tests")]
    .filter((f) => f !== "tests/unit/layering_test.ts")
    .filter((f) => /Deno\s*\.\s*dlopen\s*\(/.test(Deno.readTextFileSync(join(ROOT, f))));
  assert.deepEqual(offenders, []);
  const hw = sourceFiles("hw").filter((f) =>
    /Deno\s*\.\s*dlopen\s*\(/.test(Deno.readTextFileSync(join(ROOT, f)))
  );
  assert.ok(hw.includes("hw/libcrypto.ts"), "the scan must see the FFI glue it allows");
});

Deno.test("src/esp/ never reaches src/ike/ in the module graph", async () => {
  const graph = await sourceGraph();
  assert.ok([...graph.keys()].some((m) => m.startsWith("src/esp/")), "no ESP modules found");
  assert.ok(graph.get("src/main.ts")!.size > 0, "deno info returned no dependencies");
  assert.deepEqual(violations(graph, "src/esp/", "src/ike/"), []);
});

Deno.test("the graph check finds an indirect dependency and only that one", () => {
  const g: Graph = new Map([
    ["src/esp/a.ts", new Set(["src/net/b.ts"])],
    ["src/net/b.ts", new Set(["src/ike/c.ts"])],
    ["src/esp/d.ts", new Set(["src/crypto/types.ts"])],
    ["src/ike/c.ts", new Set(["src/esp/a.ts"])],
  ]);
  assert.deepEqual(violations(g, "src/esp/", "src/ike/"), ["src/esp/a.ts -> src/ike/c.ts"]);
});

Deno.test("src/ike/ never reaches the shell, daemon, cli or update layers", async () => {
  const graph = await sourceGraph();
  assert.ok([...graph.keys()].some((m) => m.startsWith("src/ike/")), "no IKE modules found");
  for (const upper of ["src/shell/", "src/daemon/", "src/cli/", "src/update/"]) {
    assert.deepEqual(violations(graph, "src/ike/", upper), [], upper);
  }
});

Deno.test("src/crypto/ reaches no layer above it (its self-test included)", async () => {
  const graph = await sourceGraph();
  assert.ok(graph.has("src/crypto/selftest.ts"), "the crypto self-test lives in src/crypto/");
  for (
    const upper of ["src/cli/", "src/daemon/", "src/shell/", "src/update/", "src/ike/", "src/esp/"]
  ) {
    assert.deepEqual(violations(graph, "src/crypto/", upper), [], upper);
  }
});

Deno.test("the shell never reaches the daemon; both import src/control/protocol.ts", async () => {
  const graph = await sourceGraph();
  for (const upper of ["src/daemon/", "src/cli/"]) {
    assert.deepEqual(violations(graph, "src/shell/", upper), [], upper);
  }
  for (const upper of ["src/daemon/", "src/shell/", "src/cli/", "src/ike/"]) {
    assert.deepEqual(violations(graph, "src/control/", upper), [], upper);
  }
  assert.ok(graph.get("src/shell/client.ts")?.has("src/control/protocol.ts"), "shell side");
  assert.ok(graph.get("src/daemon/control_server.ts")?.has("src/control/protocol.ts"), "daemon");
});
