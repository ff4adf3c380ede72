/**
 * `bundle create` (a bundle from directories and files plus a version) and `bundle sign` (adds
 * a release key's signature). Both run on the release host.
 * @module
 */

import { basename, join, relative } from "node:path";
import { writeFileAtomic } from "../../config/atomic.ts";
import { decodeCertFile } from "../cert.ts";
import { createBundle, type PayloadInput, signBundle } from "../create.ts";
import { UpdateError } from "../errors.ts";
import { decodeSecretKeyFile } from "../keys.ts";
import { payloadNameProblem } from "../manifest.ts";
import { parseSemVer } from "../semver.ts";
import { type CommandIo, parse, readText, required, UsageError } from "./common.ts";

/** Help of `bundle create`. */
export const CREATE_HELP =
  `usage: branchgate bundle create --version SEMVER --out FILE [--arch ARCH]
         [--product NAME] [--board NAME] [--min-version SEMVER] [--revoke KEYID]…
         [--key REL.key --cert REL.cert] DIR|FILE…

Builds a bundle: each DIR's files keep their paths relative to DIR, each FILE goes in as its
base name; executables get mode 0755. --min-version raises the device's anti-rollback floor
once the version is marked good; --revoke adds key ids to the device's revocation list.
Without --key/--cert the bundle is unsigned: sign it with 'bundle sign' before use.`;

function collect(path: string, into: PayloadInput[]): void {
  const add = (file: string, name: string) => {
    const st = Deno.lstatSync(file);
    if (!st.isFile) throw new UpdateError("manifest", `${file}: not a regular file`);
    const problem = payloadNameProblem(name);
    if (problem !== undefined) throw new UpdateError("manifest", `${file}: ${problem}`);
    const exec = ((st.mode ?? 0) & 0o111) !== 0;
    into.push({ name, data: Deno.readFileSync(file), mode: exec ? 0o755 : 0o644 });
  };
  let st: Deno.FileInfo;
  try {
    st = Deno.lstatSync(path);
  } catch {
    throw new UpdateError("manifest", `${path}: no such file or directory`);
  }
  if (!st.isDirectory) return add(path, basename(path));
  const walk = (dir: string) => {
    for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const p = join(dir, e.name);
      if (e.isDirectory) walk(p);
      else add(p, relative(path, p));
    }
  };
  walk(path);
}

/** `bundle create`. */
export function create(args: string[], io: CommandIo): number {
  const { values, positionals } = parse(args, {
    version: { type: "string" },
    out: { type: "string" },
    arch: { type: "string" },
    product: { type: "string" },
    board: { type: "string" },
    "min-version": { type: "string" },
    revoke: { type: "string", multiple: true },
    key: { type: "string" },
    cert: { type: "string" },
  });
  if (values.help) {
    io.out(CREATE_HELP);
    return 0;
  }
  const version = required(values.version, "version");
  if (parseSemVer(version) === undefined) {
    throw new UsageError(`--version ${version} is not semver`);
  }
  const out = required(values.out, "out");
  if (positionals.length === 0) throw new UsageError("name at least one directory or file");
  if ((values.key === undefined) !== (values.cert === undefined)) {
    throw new UsageError("--key and --cert go together");
  }
  const payloads: PayloadInput[] = [];
  for (const p of positionals) collect(p, payloads);
  let bytes = createBundle({
    product: values.product ?? "branchgate",
    version,
    board: values.board ?? "generic",
    arch: values.arch ?? Deno.build.arch,
    created: io.now().toISOString(),
    minVersion: values["min-version"] ?? "0.0.0",
    revokeKeys: values.revoke ?? [],
  }, payloads);
  if (values.key !== undefined && values.cert !== undefined) {
    bytes = signBundle(
      bytes,
      decodeSecretKeyFile(readText(values.key, "key"), values.key),
      decodeCertFile(readText(values.cert, "certificate"), values.cert),
    );
  }
  writeFileAtomic(out, bytes, 0o644);
  io.out(`created ${out}: version ${version}, ${payloads.length} payloads, ${bytes.length} bytes`);
  return 0;
}

/** Help of `bundle sign`. */
export const SIGN_HELP =
  `usage: branchgate bundle sign --key REL.key --cert REL.cert [--out FILE] BUNDLE

Adds the release key's signature over the bundle's manifest (in place unless --out).`;

/** `bundle sign`. */
export function signCmd(args: string[], io: CommandIo): number {
  const { values, positionals } = parse(args, {
    key: { type: "string" },
    cert: { type: "string" },
    out: { type: "string" },
  });
  if (values.help) {
    io.out(SIGN_HELP);
    return 0;
  }
  const keyPath = required(values.key, "key");
  const certPath = required(values.cert, "cert");
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError("name exactly one bundle");
  const key = decodeSecretKeyFile(readText(keyPath, "key"), keyPath);
  const cert = decodeCertFile(readText(certPath, "certificate"), certPath);
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(file);
  } catch {
    throw new UpdateError("format", `${file}: cannot read`);
  }
  const signed = signBundle(bytes, key, cert);
  const out = values.out ?? file;
  writeFileAtomic(out, signed, 0o644);
  io.out(`signed ${out} with release key ${key.name} (${key.keyId})`);
  return 0;
}
