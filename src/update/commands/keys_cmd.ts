/**
 * `bundle keygen` (root or release key; a release key is certified by a root key at once) and
 * `bundle trust` (installs a root public key on a device).
 * @module
 */

import { join } from "node:path";
import { encodeCertFile, issueCert } from "../cert.ts";
import { rootsDir } from "../device.ts";
import { generateKeyPair } from "../ed25519.ts";
import { UpdateError } from "../errors.ts";
import {
  decodePublicKeyFile,
  decodeSecretKeyFile,
  encodePublicKeyFile,
  encodeSecretKeyFile,
  type KeyRole,
  publicPart,
  secretKeyInfo,
} from "../keys.ts";
import {
  type CommandIo,
  DEFAULT_STATE_DIR,
  parse,
  positiveInt,
  readText,
  required,
  UsageError,
} from "./common.ts";

/** Help of `bundle keygen`. */
export const KEYGEN_HELP =
  `usage: branchgate bundle keygen --role root|release --name NAME [--out DIR]
                               [--root-key ROOT.key] [--valid-days N] [--not-before ISO]

Creates NAME.key (secret, mode 0600; never overwritten) and NAME.pub in DIR (default .).
A release key also gets NAME.cert: ROOT.key certifies it from --not-before (default now)
for --valid-days days (default 365). Keep root keys offline.`;

function writeNew(path: string, text: string, mode: number): void {
  try {
    Deno.writeTextFileSync(path, text, { createNew: true, mode });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new UpdateError("key", `${path} exists; not overwriting a key`);
    }
    throw err;
  }
}

/** `bundle keygen`. */
export function keygen(args: string[], io: CommandIo): number {
  const { values } = parse(args, {
    role: { type: "string" },
    name: { type: "string" },
    out: { type: "string" },
    "root-key": { type: "string" },
    "valid-days": { type: "string" },
    "not-before": { type: "string" },
  });
  if (values.help) {
    io.out(KEYGEN_HELP);
    return 0;
  }
  const role = required(values.role, "role");
  if (role !== "root" && role !== "release") throw new UsageError("--role must be root or release");
  const name = required(values.name, "name");
  const dir = values.out ?? ".";
  if (role === "release" && values["root-key"] === undefined) {
    throw new UsageError("a release key needs --root-key to certify it");
  }
  const days = positiveInt(values["valid-days"], "valid-days", 365);
  const notBefore = values["not-before"] === undefined ? io.now() : new Date(values["not-before"]);
  if (Number.isNaN(notBefore.getTime())) throw new UsageError("--not-before is not a time");
  const root = values["root-key"] === undefined
    ? undefined
    : decodeSecretKeyFile(readText(values["root-key"], "root key"), values["root-key"]);
  const key = secretKeyInfo(role as KeyRole, name, generateKeyPair().secretKey);
  const cert = root === undefined ? undefined : issueCert(
    root,
    publicPart(key),
    notBefore,
    new Date(notBefore.getTime() + days * 86_400_000),
  );
  Deno.mkdirSync(dir, { recursive: true });
  writeNew(join(dir, `${name}.key`), encodeSecretKeyFile(key), 0o600);
  writeNew(join(dir, `${name}.pub`), encodePublicKeyFile(publicPart(key)), 0o644);
  io.out(`${role} key ${name}: id ${key.keyId}`);
  io.out(`  secret: ${join(dir, `${name}.key`)} (keep it private)`);
  io.out(`  public: ${join(dir, `${name}.pub`)}`);
  if (cert !== undefined && root !== undefined) {
    writeNew(join(dir, `${name}.cert`), encodeCertFile(cert), 0o644);
    io.out(`  certificate: ${join(dir, `${name}.cert`)} (by root ${root.name}, ${days} days)`);
  }
  return 0;
}

/** Help of `bundle trust`. */
export const TRUST_HELP = `usage: branchgate bundle trust [--state DIR] ROOT.pub…

Installs root public keys on this device (DIR/update/roots/, default state dir
${DEFAULT_STATE_DIR}). Bundles must be signed by release keys these roots certified.`;

/** `bundle trust`. */
export function trust(args: string[], io: CommandIo): number {
  const { values, positionals } = parse(args, { state: { type: "string" } });
  if (values.help) {
    io.out(TRUST_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("name at least one root public key file");
  const dir = rootsDir(values.state ?? DEFAULT_STATE_DIR);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const p of positionals) {
    const k = decodePublicKeyFile(readText(p, "public key"), p);
    if (k.role !== "root") throw new UpdateError("key", `${p}: not a root key`);
    Deno.writeTextFileSync(join(dir, `${k.name}.pub`), encodePublicKeyFile(k), { mode: 0o644 });
    io.out(`trusted root key ${k.name} (${k.keyId})`);
  }
  return 0;
}
