/**
 * PKCS#10 certification requests (RFC 2986 §4) for `branchgate pki csr`: the subject DN, the
 * public key, and an extensionRequest attribute (RFC 2985 §5.4.2) carrying subjectAltName
 * (RFC 5280 §4.2.1.6), signed with the router's key (SHA-256; RSA PKCS#1 v1.5 or ECDSA).
 * @module
 */

import { sign } from "node:crypto";
import { concat, encodeOid, encodeTlv, Tag } from "./der.ts";
import type { PrivateKey } from "./keys.ts";
import { encodeName, type Rdn } from "./name.ts";
import { parseIp } from "../net/addr.ts";
import { Oid } from "./oids.ts";
import { encodeSigAlg } from "./sigalg.ts";

const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

/** A subjectAltName entry as text: "DNS:name", "IP:addr", "email:x@y", or a bare name/address. */
export function encodeAltName(text: string): Uint8Array {
  const te = new TextEncoder();
  const m = /^(DNS|IP|email):(.+)$/i.exec(text);
  const kind = m?.[1]?.toLowerCase();
  const value = m?.[2] ?? text;
  const ip = parseIp(value);
  if (kind === "ip" || (kind === undefined && ip !== undefined)) {
    if (ip === undefined) throw new Error(`not an address: ${value}`);
    return encodeTlv(0x87, ip);
  }
  if (kind === "email" || (kind === undefined && value.includes("@"))) {
    return encodeTlv(0x81, te.encode(value));
  }
  if (
    !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/
      .test(value)
  ) {
    throw new Error(`not a DNS name: ${value}`);
  }
  return encodeTlv(0x82, te.encode(value));
}

/** DER of a CSR for `key` naming `subject` and `altNames`. */
export function makeCsr(
  key: PrivateKey,
  subject: readonly Rdn[],
  altNames: readonly string[],
): Uint8Array {
  const seq = (...p: Uint8Array[]) => encodeTlv(Tag.SEQUENCE, concat(...p));
  let attrs: Uint8Array = new Uint8Array(0);
  if (altNames.length > 0) {
    const san = seq(...altNames.map(encodeAltName));
    const ext = seq(encodeOid(Oid.SUBJECT_ALT_NAME), encodeTlv(Tag.OCTET_STRING, san));
    attrs = seq(encodeOid(EXTENSION_REQUEST), encodeTlv(Tag.SET, seq(ext)));
  }
  const info = seq(
    encodeTlv(Tag.INTEGER, new Uint8Array([0])),
    encodeName(subject),
    key.spki,
    encodeTlv(0xa0, attrs),
  );
  const alg = key.keyType === "rsa"
    ? encodeSigAlg({ scheme: "rsa-pkcs1", hash: "sha256", name: "sha256WithRSA" })
    : encodeSigAlg({ scheme: "ecdsa", hash: "sha256", name: "ecdsa-with-sha256" });
  const sig = new Uint8Array(
    key.keyType === "rsa"
      ? sign("sha256", info, key.key)
      : sign("sha256", info, { key: key.key, dsaEncoding: "der" }),
  );
  return seq(info, alg, encodeTlv(Tag.BIT_STRING, concat(new Uint8Array([0]), sig)));
}
