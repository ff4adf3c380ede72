/**
 * PEM (RFC 7468) or DER input: a file holds one DER object or any number of PEM blocks.
 * @module
 */

import { DerError } from "./der.ts";

/** The DER objects in `data` under PEM `label` ("CERTIFICATE", "X509 CRL"), or `data` as DER. */
export function derObjects(data: Uint8Array, label: string): Uint8Array[] {
  if (data.length > 0 && data[0] === 0x30) return [data];
  const text = new TextDecoder("latin1").decode(data);
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, "g");
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(re)) {
    let bin: string;
    try {
      bin = atob(m[1]!.replace(/\s+/g, ""));
    } catch {
      throw new DerError(`bad base64 in a ${label} block`);
    }
    out.push(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  if (out.length === 0) throw new DerError(`neither DER nor a PEM ${label} block`);
  return out;
}

/** A PEM block of `der`. */
export function toPem(label: string, der: Uint8Array): string {
  let b = "";
  for (let i = 0; i < der.length; i += 0x8000) {
    b += String.fromCharCode(...der.subarray(i, i + 0x8000));
  }
  const lines = btoa(b).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
