/**
 * Certificates and CRLs as text for operators (`branchgate pki show`, `show pki`): subject,
 * SANs, issuer, validity, key, fingerprint; a CRL's issuer, update times and revoked serials.
 * @module
 */

import { parseCrl } from "./crl.ts";
import { DerError } from "./der.ts";
import { formatName } from "./name.ts";
import { derObjects } from "./pem.ts";
import { type AltName, type Certificate, parseCertificate } from "./x509.ts";

/** A SAN as "DNS:x", "IP:x", "email:x", "DN:x". */
export function formatAltName(a: AltName): string {
  switch (a.type) {
    case "dns":
      return `DNS:${a.value}`;
    case "ip":
      return `IP:${a.value}`;
    case "email":
      return `email:${a.value}`;
    case "dn":
      return `DN:${formatName(a.value)}`;
  }
}

/** Lines describing one certificate. */
export function describeCertificate(c: Certificate): string[] {
  const key = c.keyType === "ec"
    ? `ECDSA ${c.curve}`
    : `${c.keyType.toUpperCase()} ${c.keyBits} bits`;
  const lines = [
    `subject:      ${formatName(c.subject)}`,
    `altNames:     ${c.altNames.map(formatAltName).join(", ") || "(none)"}`,
    `issuer:       ${formatName(c.issuer)}`,
    `serial:       ${c.serial}`,
    `validity:     ${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()}`,
    `key:          ${key}`,
    `signature:    ${c.sigAlg.name}`,
  ];
  if (c.basicConstraints?.ca) {
    const pl = c.basicConstraints.pathLen;
    lines.push(`CA:           yes${pl === undefined ? "" : `, pathLen ${pl}`}`);
  }
  if (c.keyUsage !== undefined) lines.push(`keyUsage:     ${[...c.keyUsage].join(", ")}`);
  lines.push(`sha256:       ${c.fingerprint}`);
  return lines;
}

/** Lines describing each certificate or CRL in a PEM or DER file. */
export function describeFile(data: Uint8Array): string[] {
  const text = new TextDecoder("latin1").decode(data.subarray(0, 4096));
  const isCrl = text.includes("BEGIN X509 CRL") ||
    (!text.includes("-----BEGIN") && looksLikeCrl(data));
  if (!isCrl) {
    return derObjects(data, "CERTIFICATE").flatMap((d, i) => [
      ...(i > 0 ? [""] : []),
      ...describeCertificate(parseCertificate(d)),
    ]);
  }
  return derObjects(data, "X509 CRL").flatMap((d) => {
    const crl = parseCrl(d);
    const lines = [
      `CRL issuer:   ${formatName(crl.issuer)}`,
      `thisUpdate:   ${crl.thisUpdate.toISOString()}`,
      `nextUpdate:   ${crl.nextUpdate?.toISOString() ?? "(none)"}`,
      `revoked:      ${crl.revoked.size}`,
    ];
    for (const [serial, when] of crl.revoked) lines.push(`  ${serial}  ${when.toISOString()}`);
    lines.push(`sha256:       ${crl.fingerprint}`);
    return lines;
  });
}

function looksLikeCrl(data: Uint8Array): boolean {
  try {
    parseCrl(data);
    return true;
  } catch (e) {
    if (e instanceof DerError) return false;
    throw e;
  }
}
