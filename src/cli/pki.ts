/**
 * `branchgate pki`: enrolment tools run on the router.
 * - `keygen --out FILE [--type ecdsa|rsa] [--bits N] [--curve p256|p384|p521]`: a new private
 *   key, PKCS#8 PEM, written with mode 0600 (an existing file is never overwritten).
 * - `csr --key FILE --subject DN [--san NAME]... [--out FILE]`: a PKCS#10 request for the CA.
 * - `show FILE`: a certificate or CRL (subject, SANs, issuer, validity, fingerprint; revoked
 *   serials). Private keys are never printed.
 * Exit 0 on success, 1 on failure, 2 on usage errors.
 * @module
 */

import { generateKeyPairSync } from "node:crypto";
import { parseArgs } from "node:util";

const HELP = `usage:
  branchgate pki keygen --out FILE [--type ecdsa|rsa] [--curve p256|p384|p521] [--bits 2048..8192]
  branchgate pki csr --key FILE --subject "C=CH, O=Example, CN=gw.example.net" [--san gw.example.net]... [--out FILE]
  branchgate pki show FILE

keygen writes a new private key (PKCS#8 PEM, mode 0600; default ECDSA P-256). csr makes a
certificate request for the CA (SANs: DNS names, addresses, emails, or DNS:/IP:/email: forms).
show prints a certificate or CRL (PEM or DER).`;

/** Runs the subcommand; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        out: { type: "string" },
        type: { type: "string" },
        curve: { type: "string" },
        bits: { type: "string" },
        key: { type: "string" },
        subject: { type: "string" },
        san: { type: "string", multiple: true },
      },
      allowPositionals: true,
    });
  } catch (err) {
    console.error(`branchgate pki: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    return 2;
  }
  const v = parsed.values;
  const [verb, ...rest] = parsed.positionals;
  if (v.help === true) {
    console.log(HELP);
    return 0;
  }
  const usage = (why: string) => {
    console.error(`branchgate pki: ${why}\n\n${HELP}`);
    return 2;
  };
  switch (verb) {
    case "keygen": {
      if (v.out === undefined || rest.length > 0) return usage("keygen needs --out FILE");
      const type = v.type ?? "ecdsa";
      let pem: string;
      if (type === "rsa") {
        const bits = Number(v.bits ?? "3072");
        if (!Number.isInteger(bits) || bits < 2048 || bits > 8192) {
          return usage("--bits must be 2048..8192");
        }
        pem = generateKeyPairSync("rsa", { modulusLength: bits }).privateKey
          .export({ type: "pkcs8", format: "pem" }) as string;
      } else if (type === "ecdsa") {
        const curves: Record<string, string> = {
          p256: "prime256v1",
          p384: "secp384r1",
          p521: "secp521r1",
        };
        const curve = curves[v.curve ?? "p256"];
        if (curve === undefined) return usage("--curve must be p256, p384 or p521");
        pem = generateKeyPairSync("ec", { namedCurve: curve }).privateKey
          .export({ type: "pkcs8", format: "pem" }) as string;
      } else return usage("--type must be ecdsa or rsa");
      try {
        // createNew: never replace an existing key; mode 0600 from the first byte.
        const f = Deno.openSync(v.out, { write: true, createNew: true, mode: 0o600 });
        try {
          f.writeSync(new TextEncoder().encode(pem));
        } finally {
          f.close();
        }
        Deno.chmodSync(v.out, 0o600);
      } catch (err) {
        console.error(
          `branchgate pki keygen: ${v.out}: ${err instanceof Error ? err.message : err}`,
        );
        return 1;
      }
      console.log(`wrote ${type} private key to ${v.out} (mode 0600)`);
      return 0;
    }
    case "csr": {
      if (v.key === undefined || v.subject === undefined || rest.length > 0) {
        return usage("csr needs --key FILE and --subject DN");
      }
      const { loadPrivateKey, KeyError } = await import("../pki/keys.ts");
      const { parseDn } = await import("../pki/name.ts");
      const { makeCsr } = await import("../pki/csr.ts");
      const { toPem } = await import("../pki/pem.ts");
      const rdns = parseDn(v.subject);
      if (rdns === undefined) return usage(`--subject: not a DN: ${v.subject}`);
      let pem: string;
      try {
        pem = toPem("CERTIFICATE REQUEST", makeCsr(loadPrivateKey(v.key), rdns, v.san ?? []));
      } catch (err) {
        const msg = err instanceof KeyError || err instanceof Error ? err.message : String(err);
        console.error(`branchgate pki csr: ${msg}`);
        return 1;
      }
      if (v.out === undefined) console.log(pem.trimEnd());
      else {
        await Deno.writeTextFile(v.out, pem);
        console.log(`wrote certificate request to ${v.out}`);
      }
      return 0;
    }
    case "show": {
      const [file, ...more] = rest;
      if (file === undefined || more.length > 0) return usage("show needs one FILE");
      const { describeFile } = await import("../pki/describe.ts");
      try {
        console.log(describeFile(Deno.readFileSync(file)).join("\n"));
        return 0;
      } catch (err) {
        console.error(`branchgate pki show: ${file}: ${err instanceof Error ? err.message : err}`);
        return 1;
      }
    }
    default:
      return usage(verb === undefined ? "missing subcommand" : `unknown subcommand '${verb}'`);
  }
}
