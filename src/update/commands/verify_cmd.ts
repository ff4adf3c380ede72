/**
 * `bundle verify`: checks a bundle against a device's (or a directory's) root keys and prints
 * its manifest and who signed it.
 * @module
 */

import { deviceTrust, readRoots } from "../device.ts";
import { DEFAULT_MAX_SIZE } from "../install.ts";
import { readState } from "../state.ts";
import { type VerifiedBundle, verifyBundleFile } from "../stream.ts";
import { type CommandIo, DEFAULT_STATE_DIR, parse, UsageError } from "./common.ts";

/** Help of `bundle verify`. */
export const VERIFY_HELP =
  `usage: branchgate bundle verify [--state DIR | --roots DIR] [--json] BUNDLE

Verifies the signatures and every payload hash against the root keys of the device (state
dir, default ${DEFAULT_STATE_DIR}) or of --roots DIR (*.pub), and prints the manifest and
who signed it. Exits 1 with the reason when the bundle is refused.`;

/** Lines describing a verified bundle. */
export function describe(v: VerifiedBundle): string[] {
  const m = v.manifest;
  const lines = [
    `bundle: ${m.product} ${m.version} for ${m.board}/${m.arch}, created ${m.created}`,
    `  anti-rollback floor after install: ${m.minVersion}`,
    ...(m.revokeKeys.length > 0 ? [`  revokes keys: ${m.revokeKeys.join(", ")}`] : []),
    `  payloads (${m.payloads.length}, ${v.size} bytes in all):`,
    ...m.payloads.map((p) =>
      `    ${p.mode.toString(8)} ${String(p.size).padStart(10)}  ${
        p.sha256.slice(0, 16)
      }…  ${p.name}`
    ),
  ];
  for (const s of v.signers) {
    lines.push(
      `  signed by release key ${s.releaseName} (${s.releaseKeyId}), valid until ${s.notAfter},` +
        ` certified by root key ${s.rootName} (${s.rootKeyId})`,
    );
  }
  return lines;
}

/** `bundle verify`. */
export async function verifyCmd(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parse(args, {
    state: { type: "string" },
    roots: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) {
    io.out(VERIFY_HELP);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError("name exactly one bundle");
  const stateDir = values.state ?? DEFAULT_STATE_DIR;
  const state = readState(stateDir);
  const trust = values.roots !== undefined
    ? { roots: readRoots(values.roots), revoked: new Set(state.revoked) }
    : deviceTrust(stateDir, state);
  const v = await verifyBundleFile(file, { trust, now: io.now(), maxSize: DEFAULT_MAX_SIZE });
  if (values.json) {
    io.out(JSON.stringify({ manifest: v.manifest, signers: v.signers, size: v.size }));
  } else for (const l of ["ok: signatures and payload hashes verify", ...describe(v)]) io.out(l);
  return 0;
}
