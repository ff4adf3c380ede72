/**
 * A device state directory for the update tests: the test root key trusted, version 1.0.0
 * installed in slot a, and a snapshot of the whole tree for "nothing changed" checks.
 * @module
 */

import { join } from "node:path";
import type { DeviceTarget } from "../../../src/update/device.ts";
import { installBundle } from "../../../src/update/install.ts";
import { encodePublicKeyFile, publicPart } from "../../../src/update/keys.ts";
import { makeBundle, NOW, type TestKeys } from "./fixture.ts";

/** The target the test bundles are built for. */
export const TARGET: DeviceTarget = { product: "branchgate", board: "generic", arch: "x86_64" };

/** Yields `bytes` in chunks of `n`. */
export async function* chunksOf(bytes: Uint8Array, n = 1000): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += n) {
    await Promise.resolve();
    yield bytes.subarray(i, i + n);
  }
}

/** Writes the trusted root key into `stateDir`. */
export function trustRoot(stateDir: string, keys: TestKeys): void {
  Deno.mkdirSync(join(stateDir, "update", "roots"), { recursive: true });
  Deno.writeTextFileSync(
    join(stateDir, "update", "roots", `${keys.root.name}.pub`),
    encodePublicKeyFile(publicPart(keys.root)),
  );
}

/** A fresh device with 1.0.0 in slot a (current, good). */
export async function makeDevice(keys: TestKeys, version = "1.0.0"): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "bg-update-" });
  trustRoot(dir, keys);
  await installBundle(dir, chunksOf(makeBundle(keys, version)), { target: TARGET, now: NOW });
  return dir;
}

/** Every path under `dir` with its content (files), link target (symlinks) or "dir". */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      const p = join(d, e.name);
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.name === "lock") continue;
      if (e.isSymlink) out.set(r, `-> ${Deno.readLinkSync(p)}`);
      else if (e.isDirectory) {
        out.set(r, "dir");
        walk(p, r);
      } else out.set(r, new TextDecoder().decode(Deno.readFileSync(p)));
    }
  };
  walk(dir, "");
  return out;
}
