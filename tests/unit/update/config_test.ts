import assert from "node:assert/strict";
import { ConfigStore } from "../../../src/config/store.ts";
import { Logger } from "../../../src/log.ts";
import { bootStart, rollback } from "../../../src/update/boot.ts";
import { installBundle } from "../../../src/update/install.ts";
import { chunksOf, makeDevice, TARGET } from "./device_fixture.ts";
import { makeBundle, makeKeys, NOW } from "./fixture.ts";

const keys = makeKeys();
const OLD = '[gateway]\nname = "branch-7"\n';
/** Idempotent, as migrations must be: already migrated text comes back unchanged. */
const migrate = (t: string) =>
  t.includes("schema = 2") ? t : t.replace("[gateway]\n", "[gateway]\nschema = 2\n");

function store(dir: string): ConfigStore {
  return ConfigStore.open(dir, Logger.create());
}

Deno.test("config: migrated forward by the new version, previous revision kept and restored on fallback", async () => {
  const dir = await makeDevice(keys);
  try {
    store(dir).commit(OLD, "operator", "initial");
    await installBundle(dir, chunksOf(makeBundle(keys, "2.0.0")), { target: TARGET, now: NOW });
    await bootStart(dir, { now: NOW, migrate });
    const s = store(dir);
    assert.equal(s.newest()?.text, migrate(OLD));
    assert.match(s.newest()?.note ?? "", /migrated for version 2.0.0/);
    assert.equal(s.back(1)?.text, OLD, "the previous revision stays");
    // A second trial start does not migrate again.
    await bootStart(dir, { now: NOW, migrate });
    assert.equal(store(dir).list().length, 2);
    // The operator rolls back: slot a runs with the config it had.
    const d = await rollback(dir, NOW);
    assert.equal(d.slot, "a");
    assert.equal(store(dir).newest()?.text, OLD);
    assert.match(store(dir).newest()?.note ?? "", /config of revision 1/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
