/**
 * The initiator's IKEv2 crypto from node:crypto, written from the RFC text: prf and prf+
 * (RFC 7296 §2.13), SKEYSEED and the SK_* keys (§2.14), IKE SA rekey keys (§2.18), CHILD_SA
 * KEYMAT (§2.17), the PSK AUTH value (§2.15), Diffie-Hellman for MODP (RFC 3526), ECP (RFC 5903
 * §7: KE data x|y, shared secret x) and Curve25519 (RFC 8031).
 * @module
 */

import {
  createDiffieHellman,
  createECDH,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type ECDH,
  generateKeyPairSync,
  getDiffieHellman,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { cat, unhex } from "./wire.ts";

/** prf(K, S) with an HMAC PRF (RFC 7296 §2.13, RFC 4868). */
export function prf(hash: string, key: Uint8Array, ...data: Uint8Array[]): Uint8Array {
  const h = createHmac(hash, key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

/** prf+(K, S) = T1 | T2 | ..., Tn = prf(K, Tn-1 | S | n) (RFC 7296 §2.13). */
export function prfPlus(hash: string, key: Uint8Array, seed: Uint8Array, len: number): Uint8Array {
  const out: Uint8Array[] = [];
  let t: Uint8Array = new Uint8Array(0);
  let have = 0;
  for (let n = 1; have < len; n++) {
    if (n > 255) throw new Error("prf+ asked for more than 255 blocks");
    t = prf(hash, key, t, seed, Uint8Array.of(n));
    out.push(t);
    have += t.length;
  }
  return cat(...out).slice(0, len);
}

/** The seven IKE SA keys of RFC 7296 §2.14. */
export interface IkeKeys {
  /** SK_d. */
  readonly d: Uint8Array;
  /** SK_ai. */
  readonly ai: Uint8Array;
  /** SK_ar. */
  readonly ar: Uint8Array;
  /** SK_ei (with the AEAD salt at its end). */
  readonly ei: Uint8Array;
  /** SK_er. */
  readonly er: Uint8Array;
  /** SK_pi. */
  readonly pi: Uint8Array;
  /** SK_pr. */
  readonly pr: Uint8Array;
}

/** Key sizes in bytes: PRF output, encryption key (+salt), integrity key. */
export interface KeySizes {
  /** PRF output (SK_d, SK_pi, SK_pr). */
  readonly prf: number;
  /** SK_e length (key bytes + 4 salt bytes for the AEADs of RFC 5282 / RFC 7634). */
  readonly encr: number;
  /** SK_a length (0 for AEAD). */
  readonly integ: number;
}

/** Splits prf+ output into the seven keys (RFC 7296 §2.14). */
export function splitKeys(
  hash: string,
  skeyseed: Uint8Array,
  seed: Uint8Array,
  s: KeySizes,
): IkeKeys {
  const total = 3 * s.prf + 2 * s.integ + 2 * s.encr;
  const k = prfPlus(hash, skeyseed, seed, total);
  let o = 0;
  const take = (n: number) => k.slice(o, o += n);
  return {
    d: take(s.prf),
    ai: take(s.integ),
    ar: take(s.integ),
    ei: take(s.encr),
    er: take(s.encr),
    pi: take(s.prf),
    pr: take(s.prf),
  };
}

/**
 * IKE_SA_INIT keys: SKEYSEED = prf(Ni | Nr, g^ir), then prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 * (RFC 7296 §2.14).
 */
export function initKeys(
  hash: string,
  s: KeySizes,
  ni: Uint8Array,
  nr: Uint8Array,
  gir: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
): { skeyseed: Uint8Array; keys: IkeKeys } {
  const skeyseed = prf(hash, cat(ni, nr), gir);
  return { skeyseed, keys: splitKeys(hash, skeyseed, cat(ni, nr, spiI, spiR), s) };
}

/**
 * IKE SA rekey: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), keys from the new SPIs
 * (RFC 7296 §2.18). `oldHash` is the old SA's PRF, `hash` the new one's.
 */
export function rekeyKeys(
  oldHash: string,
  hash: string,
  s: KeySizes,
  oldSkD: Uint8Array,
  gir: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
): IkeKeys {
  const skeyseed = prf(oldHash, oldSkD, gir, ni, nr);
  return splitKeys(hash, skeyseed, cat(ni, nr, spiI, spiR), s);
}

/**
 * CHILD_SA KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); initiator→responder keys first,
 * encryption before integrity in each direction (RFC 7296 §2.17).
 */
export function childKeys(
  hash: string,
  skD: Uint8Array,
  ni: Uint8Array,
  nr: Uint8Array,
  encr: number,
  integ: number,
  gir?: Uint8Array,
): { ei: Uint8Array; ai: Uint8Array; er: Uint8Array; ar: Uint8Array } {
  const seed = gir === undefined ? cat(ni, nr) : cat(gir, ni, nr);
  const k = prfPlus(hash, skD, seed, 2 * (encr + integ));
  let o = 0;
  const take = (n: number) => k.slice(o, o += n);
  return { ei: take(encr), ai: take(integ), er: take(encr), ar: take(integ) };
}

const KEY_PAD = new TextEncoder().encode("Key Pad for IKEv2");

/**
 * The shared-key AUTH value: prf(prf(Shared Secret, "Key Pad for IKEv2"), SignedOctets),
 * SignedOctets = RealMessage | Nonce of the peer | prf(SK_p, RestOfIDPayload) (RFC 7296 §2.15).
 */
export function pskAuth(
  hash: string,
  psk: Uint8Array,
  realMessage: Uint8Array,
  peerNonce: Uint8Array,
  skP: Uint8Array,
  restOfId: Uint8Array,
): Uint8Array {
  const signed = cat(realMessage, peerNonce, prf(hash, skP, restOfId));
  return prf(hash, prf(hash, psk, KEY_PAD), signed);
}

/** One Diffie-Hellman exchange for an IKEv2 group. */
export interface DhKey {
  /** Group number. */
  readonly group: number;
  /** The KE payload data (RFC 7296 §3.4 with the group's encoding). */
  readonly pub: Uint8Array;
  /** g^ir from the peer's KE data; throws on a malformed value. */
  shared(peer: Uint8Array): Uint8Array;
}

const MODP: Readonly<Record<number, string>> = { 14: "modp14", 15: "modp15", 16: "modp16" };
const CURVES: Readonly<Record<number, [string, number]>> = {
  19: ["prime256v1", 32],
  20: ["secp384r1", 48],
  21: ["secp521r1", 66],
};
// RFC 8410 DER wrappers to load a raw X25519 key (fixed keys for RFC 7748 vectors).
const X25519_PKCS8 = unhex("302e020100300506032b656e04220420");
const X25519_SPKI = unhex("302a300506032b656e032100");

function leftPad(b: Uint8Array, n: number): Uint8Array {
  if (b.length >= n) return b;
  const out = new Uint8Array(n);
  out.set(b, n - b.length);
  return out;
}

/** A fresh key pair for `group` (`priv` fixes the private key, for vectors: ECP and 25519). */
export function dhKey(group: number, priv?: Uint8Array): DhKey {
  const modp = MODP[group];
  if (modp !== undefined) {
    const g = getDiffieHellman(modp);
    const prime = g.getPrime();
    const dh = priv === undefined ? g : createDiffieHellman(prime, Uint8Array.of(2));
    if (priv !== undefined) (dh as ReturnType<typeof createDiffieHellman>).setPrivateKey(priv);
    dh.generateKeys();
    const len = prime.length;
    return {
      group,
      // RFC 7296 §3.4: the KE data is zero-padded to the prime's length.
      pub: leftPad(new Uint8Array(dh.getPublicKey()), len),
      shared: (peer) => {
        if (peer.length !== len) throw new Error(`MODP KE of ${peer.length} bytes, want ${len}`);
        return leftPad(new Uint8Array(dh.computeSecret(peer)), len);
      },
    };
  }
  const curve = CURVES[group];
  if (curve !== undefined) {
    const [name, size] = curve;
    const e: ECDH = createECDH(name);
    if (priv === undefined) e.generateKeys();
    else e.setPrivateKey(priv);
    // RFC 5903 §7: x | y without the 0x04 point-format octet.
    const pub = new Uint8Array(e.getPublicKey()).slice(1);
    return {
      group,
      pub,
      shared: (peer) => {
        if (peer.length !== 2 * size) {
          throw new Error(`ECP KE of ${peer.length} bytes, want ${2 * size}`);
        }
        return leftPad(new Uint8Array(e.computeSecret(cat(Uint8Array.of(4), peer))), size);
      },
    };
  }
  if (group === 31) {
    let privateKey: KeyObject, publicKey: KeyObject;
    if (priv === undefined) {
      ({ privateKey, publicKey } = generateKeyPairSync("x25519"));
    } else {
      privateKey = createPrivateKey({
        key: Buffer.from(cat(X25519_PKCS8, priv)),
        format: "der",
        type: "pkcs8",
      });
      publicKey = createPublicKey(privateKey);
    }
    const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
    return {
      group,
      pub: spki.slice(spki.length - 32),
      shared: (peer) => {
        if (peer.length !== 32) throw new Error(`Curve25519 KE of ${peer.length} bytes`);
        const pk = createPublicKey({
          key: Buffer.from(cat(X25519_SPKI, peer)),
          format: "der",
          type: "spki",
        });
        const s = new Uint8Array(diffieHellman({ privateKey, publicKey: pk }));
        // RFC 8031 §2.2: an all-zero result must be refused.
        if (s.every((x) => x === 0)) throw new Error("Curve25519 shared secret is all zero");
        return s;
      },
    };
  }
  throw new Error(`DH group ${group} not supported by the test initiator`);
}

/** `n` random bytes from node:crypto. */
export function random(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}
