/**
 * The image bundler: task permissions, Worker discovery and rewriting on hand-made and real
 * `deno bundle` output, the launcher's exact command line, and a bundled fixture program whose
 * Worker runs from the file the bundler wrote.
 * @module
 */

import assert from "node:assert/strict";
import {
  asciiOnly,
  findWorkers,
  ImageError,
  launcherScript,
  rewriteWorkers,
  taskPermissions,
  workerOutputName,
} from "../../image/bundle_lib.ts";
import { bundleTree } from "../../image/bundle.ts";

const FIXTURE = "tests/unit/image/fixtures/app";

Deno.test("taskPermissions: the flags of deno.json tasks.branchgate, in order", async () => {
  const text = await Deno.readTextFile("deno.json");
  const task = (JSON.parse(text) as { tasks: { branchgate: string } }).tasks.branchgate;
  const flags = taskPermissions(text);
  assert.deepEqual(flags, task.split(" ").filter((w) => w.startsWith("--allow-")));
  assert.ok(flags.includes("--allow-ffi"));
  assert.deepEqual(
    taskPermissions('{"tasks":{"branchgate":"deno run --allow-net=0.0.0.0:500 --allow-ffi x.ts"}}'),
    ["--allow-net=0.0.0.0:500", "--allow-ffi"],
  );
});

Deno.test("taskPermissions: bad deno.json is an ImageError", () => {
  for (
    const text of [
      "{",
      "null",
      '{"tasks":{}}',
      '{"tasks":{"branchgate":7}}',
      '{"tasks":{"branchgate":"deno run src/main.ts"}}',
      '{"tasks":{"branchgate":"deno run --allow-read;rm src/main.ts"}}',
    ]
  ) {
    assert.throws(() => taskPermissions(text), ImageError, text);
  }
});

const TWO_WORKERS = [
  "// src/esp/datapath.ts",
  'const w = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });',
  "// src/ike/pool.ts",
  "const v = new Worker(new URL('../esp/worker.ts', import.meta.url));",
  'const u = new Worker(new URL("./helper.ts", import.meta.url), {});',
  "",
].join("\n");

Deno.test("findWorkers: each Worker URL resolved against the module that holds it", () => {
  const refs = findWorkers(TWO_WORKERS);
  assert.deepEqual(refs.map((r) => [r.specifier, r.source, r.output]), [
    ["./worker.ts", "src/esp/worker.ts", "esp_worker.js"],
    ["../esp/worker.ts", "src/esp/worker.ts", "esp_worker.js"],
    ["./helper.ts", "src/ike/helper.ts", "ike_helper.js"],
  ]);
  for (const r of refs) assert.equal(TWO_WORKERS.slice(r.offset + 1).indexOf(r.specifier), 0);
  assert.equal(workerOutputName("tests/a/b.ts"), "tests_a_b.js");
});

Deno.test("findWorkers: a Worker the image cannot ship is an ImageError", () => {
  const bad = [
    "// src/a.ts\nnew Worker(someUrl);",
    "// src/a.ts\nnew Worker(new URL(`./w.ts`, import.meta.url));",
    "// src/a.ts\nnew Worker(new URL('./w.ts', location.href));",
    'new Worker(new URL("./w.ts", import.meta.url));',
    '// a.ts\nnew Worker(new URL("../../w.ts", import.meta.url));',
  ];
  for (const text of bad) assert.throws(() => findWorkers(text), ImageError, text);
  assert.deepEqual(findWorkers("// src/a.ts\nconst worker = 1;"), []);
});

Deno.test("rewriteWorkers: only the specifiers change, each to its own output", () => {
  const refs = findWorkers(TWO_WORKERS);
  const out = rewriteWorkers(TWO_WORKERS, refs);
  assert.equal(
    out,
    TWO_WORKERS.replace('"./worker.ts"', '"./esp_worker.js"')
      .replace("'../esp/worker.ts'", '"./esp_worker.js"')
      .replace('"./helper.ts"', '"./ike_helper.js"'),
  );
  const shifted = "//x\n" + TWO_WORKERS;
  assert.throws(() => rewriteWorkers(shifted, refs), ImageError);
});

Deno.test("asciiOnly: non-ASCII written as escapes, the program unchanged", async () => {
  const js = 'const s = "§ 4.1 → ok 😀"; const r = /[→é]/u; export const t = `é${s}`; // ✓\n' +
    "export const out = [s, r.test('é'), t];\n";
  const ascii = asciiOnly(js);
  assert.ok(!/[\u0080-\uffff]/.test(ascii));
  const load = async (code: string) =>
    (await import(`data:text/javascript,${encodeURIComponent(code)}`)).out;
  assert.deepEqual(await load(ascii), await load(js));
  assert.deepEqual(await load(ascii), ["§ 4.1 → ok 😀", true, "é§ 4.1 → ok 😀"]);
});

Deno.test("launcher: runs the slot's deno on the slot's bundle with exactly the permissions", async () => {
  const slot = await Deno.makeTempDir({ prefix: "bg-launcher-" });
  try {
    await Deno.mkdir(`${slot}/bin`);
    const flags = ["--allow-read", "--allow-net=0.0.0.0:500"];
    const v8 = ["--v8-flags=--max-semi-space-size=1"];
    await Deno.writeTextFile(`${slot}/bin/branchgate`, launcherScript(flags, v8), { mode: 0o755 });
    // A stand-in deno that prints its arguments, one per line.
    await Deno.writeTextFile(`${slot}/deno`, '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
    const out = await new Deno.Command(`${slot}/bin/branchgate`, {
      args: ["config", "check", "a file.toml"],
      cwd: "/",
    }).output();
    assert.ok(out.success);
    const real = await Deno.realPath(slot);
    assert.deepEqual(new TextDecoder().decode(out.stdout).trimEnd().split("\n"), [
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      "--no-code-cache",
      ...v8,
      ...flags,
      `${real}/branchgate.js`,
      "config",
      "check",
      "a file.toml",
    ]);
  } finally {
    await Deno.remove(slot, { recursive: true });
  }
});

Deno.test("bundleTree: a bundled program starts its Worker from the file written beside it", async () => {
  const slot = await Deno.makeTempDir({ prefix: "bg-bundle-" });
  try {
    const files = await bundleTree(Deno.execPath(), slot, `${FIXTURE}/main.ts`, "app.js", true);
    const workerFile = workerOutputName(`${FIXTURE}/lib/job.ts`);
    assert.equal(files[0], "app.js");
    assert.equal(files.at(-1), workerFile);
    const chunk = files.find((f) => /^pool-\w+\.js$/.test(f));
    assert.ok(chunk !== undefined, files.join(" "));
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(slot))).map((e) => e.name).sort(),
      [
        ...files,
      ].sort(),
    );
    const app = await Deno.readTextFile(`${slot}/app.js`);
    assert.ok(app.includes(`import("./${chunk}")`));
    const pool = await Deno.readTextFile(`${slot}/${chunk}`);
    assert.ok(!pool.includes("./job.ts"));
    assert.ok(pool.includes(`new URL("./${workerFile}", import.meta.url)`));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-lock", "--allow-read", `${slot}/app.js`],
      cwd: slot,
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(new TextDecoder().decode(out.stderr), "");
    assert.equal(new TextDecoder().decode(out.stdout), "job: sum 1..20 = 210\n");
  } finally {
    await Deno.remove(slot, { recursive: true });
  }
});
