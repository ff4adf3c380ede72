/**
 * Certificates for the interop tests made by strongSwan's `pki` tool (Debian strongswan-pki),
 * an implementation independent of branchgate's: CAs, end entities with subjectAltNames,
 * validity windows relative to the current time (for an expired certificate), CRLs.
 * @module
 */

/** Runs `pki ARGS`; returns stdout bytes, throws with stderr on failure. */
export async function pki(args: readonly string[]): Promise<Uint8Array> {
  const r = await new Deno.Command("pki", { args: [...args], stdout: "piped", stderr: "piped" })
    .output();
  if (!r.success) {
    throw new Error(`pki ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
  return r.stdout;
}

/** Key types used. */
export type PkiKey = "ecdsa" | "rsa" | "rsa4096";

/** A key and certificate on disk. */
export interface PkiCert {
  readonly key: string;
  readonly cert: string;
}

async function genKey(dir: string, name: string, type: PkiKey): Promise<string> {
  const path = `${dir}/${name}.key`;
  const args = type === "ecdsa"
    ? ["--gen", "--type", "ecdsa", "--size", "256"]
    : ["--gen", "--type", "rsa", "--size", type === "rsa4096" ? "4096" : "2048"];
  await Deno.writeFile(path, await pki([...args, "--outform", "pem"]), { mode: 0o600 });
  await Deno.chmod(path, 0o600);
  return path;
}

/** A self-signed CA. */
export async function pkiRoot(
  dir: string,
  name: string,
  type: PkiKey,
  dn: string,
): Promise<PkiCert> {
  const key = await genKey(dir, name, type);
  const cert = `${dir}/${name}.crt`;
  const t = type === "ecdsa" ? "ecdsa" : "rsa";
  await Deno.writeFile(
    cert,
    await pki([
      "--self",
      "--ca",
      "--lifetime",
      "30",
      "--in",
      key,
      "--type",
      t,
      "--dn",
      dn,
      "--outform",
      "pem",
    ]),
  );
  return { key, cert };
}

/** strptime format passed with --dateform (UTC in the lab). */
const DATEFORM = "%Y%m%d%H%M%S";

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** An end entity (or, with `ca`, an intermediate CA) issued by `issuer`. */
export async function pkiIssue(
  dir: string,
  name: string,
  issuer: PkiCert,
  o: {
    type: PkiKey;
    dn: string;
    san?: string;
    ca?: boolean;
    notBefore?: Date;
    notAfter?: Date;
  },
): Promise<PkiCert> {
  const key = await genKey(dir, name, o.type);
  const cert = `${dir}/${name}.crt`;
  const args = [
    "--issue",
    "--cacert",
    issuer.cert,
    "--cakey",
    issuer.key,
    "--in",
    key,
    "--type",
    "priv",
    "--dn",
    o.dn,
    "--outform",
    "pem",
  ];
  if (o.san !== undefined) args.push("--san", o.san);
  if (o.ca === true) args.push("--ca");
  else args.push("--flag", "serverAuth", "--flag", "clientAuth");
  if (o.notBefore !== undefined || o.notAfter !== undefined) {
    args.push("--dateform", DATEFORM);
    if (o.notBefore !== undefined) args.push("--not-before", stamp(o.notBefore));
    if (o.notAfter !== undefined) args.push("--not-after", stamp(o.notAfter));
  } else args.push("--lifetime", "30");
  await Deno.writeFile(cert, await pki(args));
  return { key, cert };
}

/** A CRL of `issuer` revoking `revoked`. */
export async function pkiCrl(dir: string, name: string, issuer: PkiCert, revoked: string[]) {
  const path = `${dir}/${name}.crl`;
  const args = ["--signcrl", "--cacert", issuer.cert, "--cakey", issuer.key, "--lifetime", "15"];
  for (const c of revoked) args.push("--reason", "key-compromise", "--cert", c);
  await Deno.writeFile(path, await pki([...args, "--outform", "pem"]));
  return path;
}
