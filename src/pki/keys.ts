/**
 * Private keys: PEM or DER, RSA or ECDSA (P-256/384/521), PKCS#8 or the traditional PKCS#1 /
 * SEC 1 forms. A key file that group or others can read is refused (it must be mode 0600 or
 * stricter). Key material stays inside a node:crypto KeyObject and is never printed.
 * @module
 */

import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";

/** A loaded private key and what it is. */
export interface PrivateKey {
  readonly key: KeyObject;
  /** "rsa" or "ec". */
  readonly keyType: "rsa" | "ec";
  /** Modulus bits or curve bits. */
  readonly bits: number;
  /** "P-256", "P-384" or "P-521" for EC keys. */
  readonly curve?: string;
  /** DER SubjectPublicKeyInfo of the matching public key. */
  readonly spki: Uint8Array;
}

/** A key file that cannot be used, with the reason for one line. */
export class KeyError extends Error {
  /** `message`: why. */
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

const CURVE_BITS: Readonly<Record<string, [string, number]>> = {
  "prime256v1": ["P-256", 256],
  "P-256": ["P-256", 256],
  "secp384r1": ["P-384", 384],
  "P-384": ["P-384", 384],
  "secp521r1": ["P-521", 521],
  "P-521": ["P-521", 521],
};

/** Wraps a KeyObject; KeyError for unsupported types, curves or RSA under 2048 bits. */
export function describeKey(key: KeyObject): PrivateKey {
  const spki = new Uint8Array(createPublicKey(key).export({ type: "spki", format: "der" }));
  if (key.asymmetricKeyType === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new KeyError(`RSA key of ${bits} bits (at least 2048 needed)`);
    return { key, keyType: "rsa", bits, spki };
  }
  if (key.asymmetricKeyType === "ec") {
    const c = CURVE_BITS[key.asymmetricKeyDetails?.namedCurve ?? ""];
    if (c === undefined) throw new KeyError("EC key on an unsupported curve (P-256/384/521)");
    return { key, keyType: "ec", bits: c[1], curve: c[0], spki };
  }
  throw new KeyError(`unsupported key type ${key.asymmetricKeyType ?? "?"} (RSA or ECDSA)`);
}

/** Parses key bytes (PEM or DER); KeyError when they are not a usable private key. */
export function parsePrivateKey(data: Uint8Array): PrivateKey {
  const text = new TextDecoder("latin1").decode(data.subarray(0, 64));
  if (text.includes("ENCRYPTED")) throw new KeyError("encrypted keys are not supported");
  let key: KeyObject | undefined;
  if (text.includes("-----BEGIN")) {
    try {
      key = createPrivateKey({ key: Buffer.from(data), format: "pem" });
    } catch {
      throw new KeyError("not a PEM private key");
    }
  } else {
    for (const type of ["pkcs8", "pkcs1", "sec1"] as const) {
      try {
        key = createPrivateKey({ key: Buffer.from(data), format: "der", type });
        break;
      } catch {
        // try the next encoding
      }
    }
    if (key === undefined) throw new KeyError("neither PEM nor a DER private key");
  }
  return describeKey(key);
}

/** Loads a key file, refusing one group or others may read. */
export function loadPrivateKey(path: string): PrivateKey {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    throw new KeyError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!st.isFile) throw new KeyError(`${path}: not a regular file`);
  const mode = st.mode ?? 0;
  if ((mode & 0o077) !== 0) {
    throw new KeyError(
      `${path}: private key readable by others (mode ${(mode & 0o777).toString(8)}); ` +
        `run chmod 600 ${path}`,
    );
  }
  try {
    return parsePrivateKey(Deno.readFileSync(path));
  } catch (e) {
    if (e instanceof KeyError) throw new KeyError(`${path}: ${e.message}`);
    throw new KeyError(`${path}: unreadable`);
  }
}
