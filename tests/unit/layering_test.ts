/**
 * Layering rules that must stay true: only hw/ calls FFI, and the data path (src/esp/) never
 * depends on the control plane (src/ike/), checked on the real module graph from `deno info`.
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...sourceFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

Deno.test("only files under hw/ call Deno.dlopen", () => {
  const offenders = [...sourceFiles("src"), ...sourceFiles("tests")]
    .filter((f) => f !== "tests/unit/layering_test.ts")
    .filter((f) => /Deno\s*\.\s*dlopen\s*\(/.test(Deno.readTextFileSync(join(ROOT, f))));
  assert.deepEqual(offenders, []);
});

Deno.test("src/esp/ never imports src/ike/ (transitively)", async () => {
  const esp = sourceFiles("src/esp");
  assert.ok(esp.length > 0);
  for (const f of esp) {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", join(ROOT, f)],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    const info = JSON.parse(new TextDecoder().decode(r.stdout)) as {
      modules: { specifier: string }[];
    };
    const bad = info.modules
      .map((m) => m.specifier)
      .filter((s) => s.startsWith("file://"))
      .map((s) => relative(ROOT, fromFileUrl(s)))
      .filter((p) => p.startsWith("src/ike/"));
    assert.deepEqual(bad, [], `${f} reaches the control plane`);
  }
});
