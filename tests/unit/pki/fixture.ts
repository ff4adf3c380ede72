/**
 * Certificates for the PKI tests, made by the `openssl` CLI (never by the code under test),
 * with validity windows relative to the injected test clock: `openssl ca -startdate/-enddate`
 * and `-gencrl -crl_lastupdate/-crl_nextupdate`. Nothing here reads the wall clock.
 * @module
 */

export { NOW } from "../update/fixture.ts";
import { NOW } from "../update/fixture.ts";

/** Milliseconds in a day. */
export const DAY = 86_400_000;

/** Runs openssl; throws with its stderr on failure. */
export async function openssl(args: string[], cwd: string): Promise<string> {
  const r = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  if (!r.success) throw new Error(`openssl ${args.join(" ")}: ${dec.decode(r.stderr)}`);
  return dec.decode(r.stdout);
}

/** YYYYMMDDHHMMSSZ. */
export function asn1Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Key algorithms used in the tests. */
export type KeyAlg = "rsa2048" | "rsa1024" | "rsa4096" | "p256" | "p384";

/** A key file (mode 0600) of `alg`, in the traditional or PKCS#8 form. */
export async function makeKey(dir: string, name: string, alg: KeyAlg, pkcs8 = true) {
  const path = `${dir}/${name}.key`;
  if (alg.startsWith("rsa")) {
    const args = ["genrsa", "-out", path];
    if (!pkcs8) args.splice(1, 0, "-traditional");
    await openssl([...args, alg.slice(3)], dir);
  } else {
    const curve = alg === "p256" ? "prime256v1" : "secp384r1";
    if (pkcs8) {
      await openssl([
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        `ec_paramgen_curve:${curve}`,
        "-out",
        path,
      ], dir);
    } else {
      await openssl(["ecparam", "-name", curve, "-genkey", "-noout", "-out", path], dir);
    }
  }
  await Deno.chmod(path, 0o600);
  return path;
}

/** A CA able to issue: its directory, key and certificate. */
export interface Ca {
  readonly dir: string;
  readonly key: string;
  readonly cert: string;
  readonly cnf: string;
}

/** What to issue. */
export interface IssueOptions {
  readonly subject: string;
  readonly alg?: KeyAlg;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** openssl extension lines; default: an end entity with digitalSignature. */
  readonly ext?: string;
  readonly sans?: string;
  readonly pkcs8?: boolean;
  readonly md?: string;
}

const CA_EXT = [
  "basicConstraints = critical, CA:true",
  "keyUsage = critical, keyCertSign, cRLSign",
  "subjectKeyIdentifier = hash",
  "authorityKeyIdentifier = keyid",
].join("\n");

function cnf(dir: string, md: string): string {
  return `[ca]
default_ca = d
[d]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/new
serial = ${dir}/serial
crlnumber = ${dir}/crlnumber
default_md = ${md}
policy = p
unique_subject = no
email_in_dn = yes
default_crl_days = 30
[p]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional
[req]
distinguished_name = dn
[dn]
`;
}

let caCount = 0;

async function caDir(dir: string, md: string): Promise<string> {
  await Deno.mkdir(`${dir}/new`, { recursive: true });
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  // Serials differ between CAs (even-length hex, as openssl wants); no randomness needed.
  await Deno.writeTextFile(`${dir}/serial`, `${(0x1000 + 0x100 * caCount++).toString(16)}\n`);
  await Deno.writeTextFile(`${dir}/crlnumber`, "01\n");
  const path = `${dir}/openssl.cnf`;
  await Deno.writeTextFile(path, cnf(dir, md));
  return path;
}

let seq = 0;

/** Issues a certificate with `issuer` (or self-signed when undefined); returns its paths. */
export async function issue(
  base: string,
  name: string,
  issuer: Ca | undefined,
  o: IssueOptions,
): Promise<{ key: string; cert: string }> {
  const key = await makeKey(base, name, o.alg ?? "p256", o.pkcs8 ?? true);
  const csr = `${base}/${name}.csr`;
  const cert = `${base}/${name}.crt`;
  const ext = `${base}/${name}.ext`;
  const lines = [o.ext ?? "basicConstraints = CA:false\nkeyUsage = digitalSignature"];
  if (o.sans !== undefined) lines.push(`subjectAltName = ${o.sans}`);
  await Deno.writeTextFile(ext, `[e]\n${lines.join("\n")}\n`);
  const self = issuer === undefined;
  const dirCa = self ? `${base}/${name}.ca${seq++}` : issuer.dir;
  const conf = self ? await caDir(dirCa, o.md ?? "sha256") : issuer.cnf;
  await openssl(
    ["req", "-new", "-config", conf, "-key", key, "-subj", o.subject, "-out", csr],
    base,
  );
  const args = [
    "ca",
    "-batch",
    "-notext",
    "-config",
    conf,
    "-in",
    csr,
    "-out",
    cert,
    "-extfile",
    ext,
    "-extensions",
    "e",
    "-startdate",
    asn1Time(o.notBefore ?? new Date(NOW.getTime() - DAY)),
    "-enddate",
    asn1Time(o.notAfter ?? new Date(NOW.getTime() + 365 * DAY)),
  ];
  if (o.md !== undefined) args.push("-md", o.md);
  args.push(
    ...(self ? ["-selfsign", "-keyfile", key] : ["-cert", issuer.cert, "-keyfile", issuer.key]),
  );
  await openssl(args, base);
  return { key, cert };
}

/** A CA: self-signed when `parent` is undefined, else issued by it. */
export async function makeCa(
  base: string,
  name: string,
  parent: Ca | undefined,
  o: Partial<IssueOptions> & { pathLen?: number } = {},
): Promise<Ca> {
  const bc = o.pathLen === undefined ? "" : `, pathlen:${o.pathLen}`;
  const ext = o.ext ?? CA_EXT.replace("CA:true", `CA:true${bc}`);
  const { key, cert } = await issue(base, name, parent, {
    subject: o.subject ?? `/C=CH/O=branchgate test/CN=${name}`,
    alg: o.alg ?? "p256",
    ext,
    ...(o.notBefore ? { notBefore: o.notBefore } : {}),
    ...(o.notAfter ? { notAfter: o.notAfter } : {}),
  });
  const dir = `${base}/${name}.db`;
  const conf = await caDir(dir, "sha256");
  return { dir, key, cert, cnf: conf };
}

/** Revokes `cert` and writes the CA's CRL, issued a day before NOW. */
export async function revokeAndCrl(base: string, ca: Ca, revoke: string[], name: string) {
  for (const c of revoke) {
    await openssl(
      ["ca", "-config", ca.cnf, "-revoke", c, "-cert", ca.cert, "-keyfile", ca.key],
      base,
    );
  }
  const out = `${base}/${name}.crl`;
  await openssl([
    "ca",
    "-gencrl",
    "-config",
    ca.cnf,
    "-cert",
    ca.cert,
    "-keyfile",
    ca.key,
    "-out",
    out,
    "-crl_lastupdate",
    asn1Time(new Date(NOW.getTime() - DAY)),
    "-crl_nextupdate",
    asn1Time(new Date(NOW.getTime() + 30 * DAY)),
  ], base);
  return out;
}
