import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigStore, KEEP, revisionName } from "../../../src/config/store.ts";
import { Logger } from "../../../src/log.ts";

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "bg-store-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("commits are numbered, durable across reopen, newest first", () =>
  withDir((dir) => {
    const log = Logger.create();
    const s = ConfigStore.open(dir, log);
    assert.equal(s.newest(), undefined);
    s.commit("a = 1\n", "shell", "first");
    s.commit("a = 2\n", "console", "second");
    const again = ConfigStore.open(dir, log);
    assert.deepEqual(again.list().map((r) => [r.number, r.text, r.by]), [
      [2, "a = 2\n", "console"],
      [1, "a = 1\n", "shell"],
    ]);
    assert.equal(again.back(1)?.note, "first");
    assert.equal(again.back(2), undefined);
    assert.equal(again.back(-1), undefined);
    const mode = Deno.statSync(join(dir, "config", revisionName(2))).mode! & 0o777;
    assert.equal(mode, 0o600);
    assert.equal(Deno.statSync(join(dir, "config")).mode! & 0o777, 0o700);
  }));

Deno.test(`only the newest ${KEEP} revisions are kept`, () =>
  withDir((dir) => {
    const s = ConfigStore.open(dir, Logger.create());
    for (let i = 1; i <= KEEP + 5; i++) s.commit(`n = ${i}\n`, "shell", "");
    const files = [...Deno.readDirSync(join(dir, "config"))].map((e) => e.name).sort();
    assert.equal(files.length, KEEP);
    assert.equal(files[0], revisionName(6));
    assert.equal(ConfigStore.open(dir, Logger.create()).list().length, KEEP);
  }));

for (
  const [what, damage] of [
    ["truncated (torn write)", (b: Uint8Array) => b.subarray(0, b.length - 3)],
    ["one flipped bit", (b: Uint8Array) => b.map((x, i) => i === b.length - 2 ? x ^ 1 : x)],
    ["empty", () => new Uint8Array(0)],
    ["garbage header", (b: Uint8Array) => b.map((x, i) => i === 3 ? 0x7b : x)],
  ] as const
) {
  Deno.test(`a corrupt newest revision (${what}) falls back loudly to the newest good one`, () =>
    withDir((dir) => {
      const s = ConfigStore.open(dir, Logger.create());
      s.commit("good = 1\n", "shell", "");
      s.commit("good = 2\n", "shell", "");
      s.commit("bad = 3\n", "shell", "");
      const path = join(dir, "config", revisionName(3));
      Deno.writeFileSync(path, damage(Deno.readFileSync(path)));
      const log = Logger.create();
      const again = ConfigStore.open(dir, log);
      assert.equal(again.newest()?.text, "good = 2\n");
      const lines = log.recent(10).join("\n");
      assert.match(lines, /level=error .*CORRUPT.*file=rev-000000003\.toml/);
      assert.ok(Deno.statSync(`${path}.corrupt`).isFile, "set aside for inspection");
      assert.equal(again.commit("next = 4\n", "shell", "").number, 3);
    }));
}

Deno.test("a revision renamed to another number is refused", () =>
  withDir((dir) => {
    const s = ConfigStore.open(dir, Logger.create());
    s.commit("x = 1\n", "shell", "");
    const cfg = join(dir, "config");
    Deno.renameSync(join(cfg, revisionName(1)), join(cfg, revisionName(7)));
    assert.equal(ConfigStore.open(dir, Logger.create()).newest(), undefined);
  }));

Deno.test("temporaries left by a crash are swept at open", () =>
  withDir((dir) => {
    const s = ConfigStore.open(dir, Logger.create());
    s.commit("x = 1\n", "shell", "");
    Deno.writeTextFileSync(join(dir, "config", ".tmp-rev-000000002.toml.1.1"), "#branch");
    const again = ConfigStore.open(dir, Logger.create());
    assert.equal(again.newest()?.number, 1);
    const names = [...Deno.readDirSync(join(dir, "config"))].map((e) => e.name);
    assert.deepEqual(names, [revisionName(1)]);
  }));

Deno.test("the imported file's checksum survives pruning", () =>
  withDir((dir) => {
    const s = ConfigStore.open(dir, Logger.create());
    s.commit("from = 'file'\n", "file", "imported", "ab".repeat(32));
    for (let i = 0; i < KEEP + 2; i++) s.commit(`n = ${i}\n`, "shell", "");
    const again = ConfigStore.open(dir, Logger.create());
    assert.equal(again.list().some((r) => r.by === "file"), false);
    assert.equal(again.lastImportSha(), "ab".repeat(32));
  }));
