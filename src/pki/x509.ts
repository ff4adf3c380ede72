/**
 * X.509 v3 certificates (RFC 5280 §4.1): the fields and extensions path validation and IKE
 * identity checks act on. Parsing is bounded (der.ts) and never trusts a length; the public key
 * becomes a node:crypto KeyObject (OpenSSL inside Deno does the signature arithmetic).
 * @module
 */

import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import {
  bitSet,
  bitStringBytes,
  boolean,
  children,
  DerError,
  expect,
  integer,
  oid,
  parseOne,
  Tag,
  time,
  type Tlv,
} from "./der.ts";
import { decodeName, type DistinguishedName, formatName, printable } from "./name.ts";
import { Oid } from "./oids.ts";
import { decodeSigAlg, type SigAlg } from "./sigalg.ts";
import { formatIp } from "../net/addr.ts";

/** A subjectAltName entry (RFC 5280 §4.2.1.6) this gateway can match an IKE ID against. */
export type AltName =
  | { readonly type: "dns"; readonly value: string }
  | { readonly type: "email"; readonly value: string }
  | { readonly type: "ip"; readonly value: string; readonly bytes: Uint8Array }
  | { readonly type: "dn"; readonly value: DistinguishedName };

/** A parsed certificate. */
export interface Certificate {
  /** The whole DER encoding. */
  readonly der: Uint8Array;
  /** TBSCertificate bytes (what the issuer signed). */
  readonly tbs: Uint8Array;
  readonly version: number;
  /** Serial number (hex, upper case, as `openssl x509 -serial` prints it). */
  readonly serial: string;
  readonly serialValue: bigint;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  readonly publicKey: KeyObject;
  /** "rsa", "ec" or "ed25519". */
  readonly keyType: string;
  /** RSA modulus bits or EC curve bits. */
  readonly keyBits: number;
  /** EC curve ("P-256", "P-384", "P-521"), if EC. */
  readonly curve?: string;
  readonly sigAlg: SigAlg;
  readonly signature: Uint8Array;
  /** basicConstraints (undefined when absent). */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  /** keyUsage bits by name (undefined when absent). */
  readonly keyUsage?: ReadonlySet<string>;
  /** extendedKeyUsage OIDs (undefined when absent). */
  readonly extKeyUsage?: readonly string[];
  readonly altNames: readonly AltName[];
  readonly subjectKeyId?: string;
  readonly authorityKeyId?: string;
  /** Critical extensions this code does not process (a path with one is refused). */
  readonly unknownCritical: readonly string[];
  /** SHA-256 of the DER, colon-separated hex. */
  readonly fingerprint: string;
}

const KEY_USAGE_BITS = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
];

const CURVES: Readonly<Record<string, [string, number]>> = {
  [Oid.P256]: ["P-256", 256],
  [Oid.P384]: ["P-384", 384],
  [Oid.P521]: ["P-521", 521],
};

/** Hex with colons ("AB:CD"). */
export function colonHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/** Parses a DER certificate; DerError says what is wrong (never another exception). */
export function parseCertificate(der: Uint8Array): Certificate {
  try {
    return parse(der);
  } catch (e) {
    // A missing field shows up as a TypeError on `undefined`: still just a bad certificate.
    if (e instanceof DerError) throw e;
    throw new DerError("malformed certificate structure");
  }
}

function parse(der: Uint8Array): Certificate {
  const [tbsT, algT, sigT, extra] = children(expect(parseOne(der), Tag.SEQUENCE, "Certificate"));
  if (extra !== undefined) throw new DerError("Certificate: trailing fields");
  const tbsFields = children(expect(tbsT, Tag.SEQUENCE, "TBSCertificate"));
  let i = 0;
  let version = 1;
  if (tbsFields[0]?.tag === 0xa0) {
    version = Number(integer(expect(children(tbsFields[0])[0], Tag.INTEGER, "version"))) + 1;
    i++;
  }
  const serialValue = integer(expect(tbsFields[i++], Tag.INTEGER, "serialNumber"));
  const innerAlg = expect(tbsFields[i++], Tag.SEQUENCE, "signature");
  const issuer = decodeName(expect(tbsFields[i++], Tag.SEQUENCE, "issuer"));
  const validity = children(expect(tbsFields[i++], Tag.SEQUENCE, "validity"));
  const subject = decodeName(expect(tbsFields[i++], Tag.SEQUENCE, "subject"));
  const spkiT = expect(tbsFields[i++], Tag.SEQUENCE, "subjectPublicKeyInfo");
  const sigAlg = decodeSigAlg(algT!);
  if (!sameBytes(innerAlg.raw, expect(algT, Tag.SEQUENCE, "signatureAlgorithm").raw)) {
    throw new DerError(
      "signature algorithm differs inside and outside the TBS (RFC 5280 §4.1.1.2)",
    );
  }
  const key = publicKeyOf(spkiT);
  const cert: {
    -readonly [K in keyof Certificate]: Certificate[K];
  } = {
    der,
    tbs: tbsT!.raw,
    version,
    serial: serialHex(serialValue),
    serialValue,
    issuer,
    subject,
    notBefore: time(validity[0]!),
    notAfter: time(validity[1]!),
    spki: spkiT.raw,
    ...key,
    sigAlg,
    signature: bitStringBytes(sigT!),
    altNames: [],
    unknownCritical: [],
    fingerprint: colonHex(createHash("sha256").update(der).digest()),
  };
  for (; i < tbsFields.length; i++) {
    const f = tbsFields[i]!;
    if (f.tag === 0xa3) readExtensions(children(f)[0], cert);
    else if (f.tag !== 0x81 && f.tag !== 0x82) {
      throw new DerError("TBSCertificate: unexpected field");
    }
  }
  return cert;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, j) => x === b[j]);
}

/** Serial as upper-case hex without sign padding. */
export function serialHex(v: bigint): string {
  const h = (v < 0n ? -v : v).toString(16).toUpperCase();
  return (v < 0n ? "-" : "") + (h.length % 2 ? "0" + h : h);
}

function publicKeyOf(spki: Tlv) {
  const [alg] = children(spki);
  const [algOid, params] = children(expect(alg, Tag.SEQUENCE, "SPKI algorithm"));
  const o = oid(expect(algOid, Tag.OID, "SPKI algorithm"));
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki.raw), format: "der", type: "spki" });
  } catch {
    throw new DerError(`public key (${o}) does not load`);
  }
  if (o === Oid.RSA || o === Oid.RSA_PSS) {
    const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    return { publicKey, keyType: "rsa", keyBits: bits };
  }
  if (o === Oid.EC_PUBLIC_KEY) {
    const c = params?.tag === Tag.OID ? CURVES[oid(params)] : undefined;
    if (c === undefined) throw new DerError("EC key on an unsupported curve");
    return { publicKey, keyType: "ec", keyBits: c[1], curve: c[0] };
  }
  if (o === Oid.ED25519) return { publicKey, keyType: "ed25519", keyBits: 256 };
  throw new DerError(`unsupported public key algorithm ${o}`);
}

type Mutable = { -readonly [K in keyof Certificate]: Certificate[K] };

function readExtensions(t: Tlv | undefined, cert: Mutable): void {
  const seen = new Set<string>();
  const unknown: string[] = [];
  for (const ext of children(expect(t, Tag.SEQUENCE, "extensions"))) {
    const f = children(expect(ext, Tag.SEQUENCE, "extension"));
    const id = oid(expect(f[0], Tag.OID, "extnID"));
    const critical = f.length === 3 ? boolean(f[1]!) : false;
    const value = parseOne(expect(f[f.length - 1], Tag.OCTET_STRING, "extnValue").value);
    // RFC 5280 §4.2: at most one instance of an extension.
    if (seen.has(id)) throw new DerError(`extension ${id} repeated`);
    seen.add(id);
    switch (id) {
      case Oid.BASIC_CONSTRAINTS: {
        const bc = children(expect(value, Tag.SEQUENCE, "basicConstraints"));
        let ca = false;
        let pathLen: number | undefined;
        for (const x of bc) {
          if (x.tag === Tag.BOOLEAN) ca = boolean(x);
          else if (x.tag === Tag.INTEGER) pathLen = Number(integer(x));
        }
        cert.basicConstraints = pathLen === undefined ? { ca } : { ca, pathLen };
        break;
      }
      case Oid.KEY_USAGE:
        cert.keyUsage = new Set(KEY_USAGE_BITS.filter((_, b) => bitSet(value, b)));
        break;
      case Oid.EXT_KEY_USAGE:
        cert.extKeyUsage = children(expect(value, Tag.SEQUENCE, "extKeyUsage")).map(oid);
        break;
      case Oid.SUBJECT_ALT_NAME:
        cert.altNames = children(expect(value, Tag.SEQUENCE, "subjectAltName")).flatMap(altName);
        break;
      case Oid.SUBJECT_KEY_ID:
        cert.subjectKeyId = hex(expect(value, Tag.OCTET_STRING, "subjectKeyIdentifier").value);
        break;
      case Oid.AUTHORITY_KEY_ID: {
        const k = children(expect(value, Tag.SEQUENCE, "authorityKeyIdentifier"))
          .find((x) => x.tag === 0x80);
        if (k !== undefined) cert.authorityKeyId = hex(k.value);
        break;
      }
      default:
        if (critical) unknown.push(id);
    }
  }
  cert.unknownCritical = unknown;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function altName(g: Tlv): AltName[] {
  const latin = (b: Uint8Array) => printable(new TextDecoder("latin1").decode(b));
  switch (g.tag) {
    case 0x81:
      return [{ type: "email", value: latin(g.value) }];
    case 0x82:
      return [{ type: "dns", value: latin(g.value) }];
    case 0x87:
      if (g.value.length !== 4 && g.value.length !== 16) throw new DerError("bad iPAddress SAN");
      return [{ type: "ip", value: formatIp(g.value), bytes: g.value }];
    case 0xa4:
      return [{ type: "dn", value: decodeName(children(g)[0]!) }];
    default:
      return []; // otherName, URI, ...: not IKE identities here
  }
}

/** One line naming a certificate for logs: its subject and serial. */
export function describeCert(c: Certificate): string {
  return `"${formatName(c.subject)}" (serial ${c.serial})`;
}
