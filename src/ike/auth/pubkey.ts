/**
 * Public-key authentication for both IKE versions over a peer's certificate credentials
 * (src/pki): IKEv1 RSA signatures (RFC 2409 §5.1, Authentication Method 3) and ECDSA
 * (RFC 4754 §7, methods 9/10/11), SKEYID = prf(Ni_b | Nr_b, g^xy); IKEv2 AUTH methods 1,
 * 9/10/11 and 14 (RFC 7296 §2.15, RFC 4754, RFC 7427). The peer's certificate must chain to a
 * configured anchor (path.ts), name the ID it sent (RFC 4945 §3.1) and that ID must match
 * `remote_id`. Refusals name the certificate and the reason in one line.
 *
 * The daemon imports this module only when a peer uses `auth = "pubkey"`.
 * @module
 */

import { createHash } from "node:crypto";
import { skeyidSig } from "../../crypto/kdf/ikev1.ts";
import type { KdfPrimitives } from "../../crypto/kdf/primitives.ts";
import type { PrfAlg } from "../../crypto/types.ts";
import { DerError } from "../../pki/der.ts";
import {
  certHasIdentity,
  describeIdentity,
  identityFromPayload,
  identityFromText,
  identityMatches,
  identityToPayload,
} from "../../pki/identity.ts";
import { v1Sign, v1Verify, v2Sign, v2Verify } from "../../pki/ike_sign.ts";
import { refusalLine, validatePath } from "../../pki/path.ts";
import type { PeerCredentials } from "../../pki/store.ts";
import { type Certificate, describeCert, parseCertificate } from "../../pki/x509.ts";
import { AuthMethodV1 } from "../message/v1/registry.ts";
import type {
  Authenticator,
  AuthFailure,
  PeerEvidence,
  V1Proof,
  V2Proof,
  V2SignedOctets,
} from "./authenticator.ts";

/** Most certificates taken from one message (a path is at most 8 long, path.ts). */
const MAX_CERTS = 8;

const fail = (reason: string): AuthFailure => ({ ok: false, reason });

/** Certificate authentication for one peer. */
export class PubkeyAuthenticator implements Authenticator {
  /** {@inheritDoc Authenticator.name} */
  readonly name = "pubkey";
  /** SHA-256 fingerprint of our certificate (a changed certificate drops the peer's SAs). */
  readonly fingerprint: string;
  /** {@inheritDoc Authenticator.v1Methods} */
  readonly v1Methods: readonly number[];
  readonly #creds: PeerCredentials;
  readonly #remoteId: string | undefined;
  readonly #clock: () => Date;

  /**
   * An authenticator over `creds`, accepting peers whose ID matches `remoteId` (any if unset);
   * `clock` is the wall clock certificate validity is checked against (injected: the exchanges'
   * own clock is monotonic).
   */
  constructor(creds: PeerCredentials, remoteId: string | undefined, clock: () => Date) {
    this.#creds = creds;
    this.#remoteId = remoteId;
    this.#clock = clock;
    this.fingerprint = creds.cert.fingerprint;
    const k = creds.key;
    // RFC 2409 Appendix A and RFC 4754 §7: the method names our key's algorithm and curve.
    this.v1Methods = k.keyType === "rsa"
      ? [AuthMethodV1.RSA_SIGNATURES]
      : k.curve === "P-256"
      ? [AuthMethodV1.ECDSA_SHA256_P256]
      : k.curve === "P-384"
      ? [AuthMethodV1.ECDSA_SHA384_P384]
      : [AuthMethodV1.ECDSA_SHA512_P521];
  }

  /** {@inheritDoc Authenticator.skeyidV1} */
  skeyidV1(c: KdfPrimitives, prf: PrfAlg, ni: Uint8Array, nr: Uint8Array, gxy: Uint8Array) {
    return skeyidSig(c, prf, ni, nr, gxy);
  }

  /** {@inheritDoc Authenticator.localId} */
  localId(configured: string | undefined): { type: number; data: Uint8Array } {
    // RFC 4945 §3.1: without a configured local_id, our certificate's subject DN.
    if (configured === undefined) return { type: 9, data: this.#creds.cert.subject.der };
    return identityToPayload(identityFromText(configured));
  }

  /** {@inheritDoc Authenticator.certRequestsV1} */
  certRequestsV1(): readonly Uint8Array[] {
    return this.#creds.trust.anchors.map((a) => a.subject.der);
  }

  #ourCerts(): Uint8Array[] {
    return [this.#creds.cert.der, ...this.#creds.chain.map((c) => c.der)];
  }

  /** {@inheritDoc Authenticator.proveV1} */
  proveV1(hashR: Uint8Array): V1Proof | AuthFailure {
    return { kind: "sig", data: v1Sign(this.#creds.key, hashR), certs: this.#ourCerts() };
  }

  /**
   * The peer's end-entity certificate once its path, ID binding and `remote_id` check out;
   * the refusal naming the certificate otherwise.
   */
  #peerCert(evidence: PeerEvidence | undefined): Certificate | AuthFailure {
    if (evidence === undefined) return fail("no identity evidence");
    const id = identityFromPayload(evidence.idType, evidence.idData);
    if (id === undefined) {
      return fail(`ID type ${evidence.idType} cannot be bound to a certificate`);
    }
    if (evidence.certs.length === 0) return fail("the peer sent no certificate");
    if (evidence.certs.length > MAX_CERTS) return fail(`more than ${MAX_CERTS} certificates`);
    const certs: Certificate[] = [];
    for (const der of evidence.certs) {
      try {
        certs.push(parseCertificate(der));
      } catch (e) {
        if (e instanceof DerError) {
          return fail(`a received certificate does not parse: ${e.message}`);
        }
        throw e;
      }
    }
    // The end entity: the one naming the ID (RFC 4945 §3.3: usually first).
    const leaf = certs.find((c) => certHasIdentity(c, id));
    if (leaf === undefined) {
      return fail(
        `certificate ${describeCert(certs[0]!)} refused: it does not name the ID ` +
          `${describeIdentity(id)}`,
      );
    }
    if (this.#remoteId !== undefined && !identityMatches(this.#remoteId, id)) {
      return fail(
        `certificate ${describeCert(leaf)} refused: ID ${describeIdentity(id)} does not ` +
          `match remote_id ${this.#remoteId}`,
      );
    }
    const others = certs.filter((c) => c !== leaf);
    const r = validatePath(leaf, others, this.#creds.trust, this.#clock());
    return r.ok ? leaf : fail(refusalLine(r));
  }

  /** {@inheritDoc Authenticator.verifyV1} */
  verifyV1(hashI: Uint8Array, proof: V1Proof | undefined, evidence?: PeerEvidence) {
    if (proof === undefined || proof.kind !== "sig") {
      return fail("no SIG payload (signature authentication expected)");
    }
    const leaf = this.#peerCert(evidence);
    if (!("der" in leaf)) return leaf;
    return v1Verify(leaf.publicKey, hashI, proof.data)
      ? true
      : fail(`signature by certificate ${describeCert(leaf)} does not verify`);
  }

  /** {@inheritDoc Authenticator.certRequestsV2} */
  certRequestsV2(): Uint8Array {
    // RFC 7296 §3.7: the SHA-1 hash of each trusted CA's SubjectPublicKeyInfo, concatenated.
    const hashes = this.#creds.trust.anchors.map((a) =>
      new Uint8Array(createHash("sha1").update(a.spki).digest())
    );
    const out = new Uint8Array(hashes.length * 20);
    hashes.forEach((h, i) => out.set(h, i * 20));
    return out;
  }

  /** {@inheritDoc Authenticator.proveV2} */
  proveV2(_c: KdfPrimitives, signed: V2SignedOctets): V2Proof | AuthFailure {
    const p = v2Sign(this.#creds.key, signed.octets, signed.signatureHashes);
    return { ...p, certs: this.#ourCerts() };
  }

  /** {@inheritDoc Authenticator.verifyV2} */
  verifyV2(_c: KdfPrimitives, signed: V2SignedOctets, auth: V2Proof, evidence?: PeerEvidence) {
    const leaf = this.#peerCert(evidence);
    if (!("der" in leaf)) return leaf;
    const r = v2Verify(leaf.publicKey, auth.method, signed.octets, auth.data);
    return r === true ? true : fail(`certificate ${describeCert(leaf)}: ${r}`);
  }
}
