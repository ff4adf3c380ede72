/**
 * Pieces Main Mode and Aggressive Mode share: payload lookup, the DH computation and key
 * derivation with a pre-shared key (RFC 2409 §5 and §5.4), HASH_I/HASH_R, NAT-D handling
 * (RFC 3947 §3.2) and establishment bookkeeping.
 * @module
 */

import { CIPHER_BLOCK } from "../../crypto/params.ts";
import type { DhKeyPair } from "../../crypto/types.ts";
import { deriveSkeyids, encryptionKey, phase1Hash, phase1Iv } from "../../crypto/kdf/ikev1.ts";
import { encodeV1Payloads, readV1Payloads } from "../message/v1/chain.ts";
import { HEADER_LENGTH } from "../message/header.ts";
import type { EncryptedMessageV1 } from "../message/v1/message.ts";
import { decryptBody, DecryptError } from "./crypto_state.ts";
import {
  AuthMethodV1,
  CertEncodingV1,
  NotifyTypeV1,
  PayloadTypeV1,
} from "../message/v1/registry.ts";
import type { PeerConfig } from "../../config/schema.ts";
import type {
  CertPayloadV1,
  DataPayloadV1,
  DecodedPayloadV1,
  DeletePayloadV1,
  IdPayloadV1,
  NatDPayloadV1,
  NotifyPayloadV1,
  PayloadV1,
  PayloadViewV1,
  SaPayloadV1,
} from "../message/v1/types.ts";
import {
  type IkeSa,
  isNegotiating,
  type KeyedIkeSa,
  type NegotiatingIkeSa,
  NO_KEY,
  type Phase1Exchange,
} from "../sa.ts";
import { authenticatorFor, isAuthFailure, type V1Proof } from "../auth/authenticator.ts";
import type { Arrival, ExchangeContext } from "./context.ts";
import { detectNat, natDHash } from "./nat_t.ts";
import { idPayload, localIdentity } from "./policy.ts";

/** Decoded payload types by kind tag. */
export interface PayloadsByKind {
  /** SA. */
  sa: SaPayloadV1;
  /** KE. */
  ke: DataPayloadV1;
  /** HASH. */
  hash: DataPayloadV1;
  /** SIG. */
  sig: DataPayloadV1;
  /** Nonce. */
  nonce: DataPayloadV1;
  /** Vendor ID. */
  vid: DataPayloadV1;
  /** NAT-D. */
  "nat-d": NatDPayloadV1;
  /** ID. */
  id: IdPayloadV1;
  /** Notify. */
  n: NotifyPayloadV1;
  /** Certificate. */
  cert: CertPayloadV1;
  /** Certificate request. */
  cr: CertPayloadV1;
  /** Delete. */
  d: DeletePayloadV1;
}

/** The payloads of `kind` in a chain. */
export function all<K extends keyof PayloadsByKind>(
  payloads: readonly DecodedPayloadV1[],
  kind: K,
): (PayloadsByKind[K] & PayloadViewV1)[] {
  return payloads.filter((p) =>
    p.kind === kind
  ) as unknown as (PayloadsByKind[K] & PayloadViewV1)[];
}

/** The single payload of `kind`, or undefined when absent or repeated. */
export function one<K extends keyof PayloadsByKind>(
  payloads: readonly DecodedPayloadV1[],
  kind: K,
): (PayloadsByKind[K] & PayloadViewV1) | undefined {
  const found = all(payloads, kind);
  return found.length === 1 ? found[0] : undefined;
}

/** Equal bytes, in constant time for equal lengths. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Decrypts an encrypted Phase 1 message with the Phase 1 IV chain (RFC 2409 Appendix B):
 * its payloads and the IV for the next message, or why it could not be read. `sa` is not
 * changed (the caller moves the IV once the message authenticates).
 */
export function decryptPhase1(
  ctx: ExchangeContext,
  sa: KeyedIkeSa,
  msg: EncryptedMessageV1,
): { payloads: readonly DecodedPayloadV1[]; nextIv: Uint8Array } | string {
  try {
    const d = decryptBody(ctx.crypto, sa.alg.cipher, sa.encKey, sa.iv, msg.body);
    const payloads = readV1Payloads(msg.header.nextPayload, d.plaintext, HEADER_LENGTH).payloads;
    return { payloads, nextIv: d.nextIv };
  } catch (e) {
    return e instanceof DecryptError ? e.message : "payloads do not parse";
  }
}

/** Why a key exchange step failed (a clear line for the event). */
export class Phase1Error extends Error {
  /** `notify`: the Notify type to send, if any. */
  constructor(message: string, readonly notify?: number) {
    super(message);
    this.name = "Phase1Error";
  }
}

/**
 * Takes the initiator's KE and nonce, makes ours, and derives SKEYID, SKEYID_d/a/e, the
 * encryption key and the first Phase 1 IV (RFC 2409 §5, Appendix B). Fills `sa`; returns its
 * exchange material, our DH key pair and nonce included.
 */
export function deriveKeys(
  ctx: ExchangeContext,
  sa: IkeSa,
  ke: Uint8Array,
  ni: Uint8Array,
): { readonly exchange: Phase1Exchange; readonly dh: DhKeyPair; readonly nr: Uint8Array } {
  if (!isNegotiating(sa)) throw new Phase1Error("no negotiated proposal");
  const alg = sa.alg;
  const ex = sa.exchange;
  if (ni.length < 8 || ni.length > 256) {
    throw new Phase1Error(
      `nonce of ${ni.length} bytes (RFC 2409 §5: 8..256)`,
      NotifyTypeV1.PAYLOAD_MALFORMED,
    );
  }
  const group = ctx.crypto.dh(alg.group);
  if (ke.length !== group.publicLength) {
    throw new Phase1Error(
      `KE of ${ke.length} bytes for group ${alg.group} (needs ${group.publicLength})`,
      NotifyTypeV1.INVALID_KEY_INFORMATION,
    );
  }
  const dh = group.generate();
  let gxy: Uint8Array;
  try {
    gxy = dh.computeShared(ke);
  } catch {
    throw new Phase1Error(
      "the peer's public value is invalid",
      NotifyTypeV1.INVALID_KEY_INFORMATION,
    );
  }
  const nr = ctx.crypto.randomBytes(32);
  ex.dh = dh;
  deriveSkeyidFamily(ctx, sa, { gxi: ke, gxr: dh.publicValue, ni, nr, gxy });
  return { exchange: ex, dh, nr };
}

/** The exchange material both roles feed into the Phase 1 key derivation. */
export interface Phase1Material {
  /** g^xi. */
  readonly gxi: Uint8Array;
  /** g^xr. */
  readonly gxr: Uint8Array;
  /** Ni_b. */
  readonly ni: Uint8Array;
  /** Nr_b. */
  readonly nr: Uint8Array;
  /** g^xy. */
  readonly gxy: Uint8Array;
}

/**
 * SKEYID (through the peer's authenticator: PSK or signatures), SKEYID_d/a/e, the encryption key and the first Phase 1 IV
 * (RFC 2409 §5, Appendix B), for either role; the material is kept in `sa.exchange`.
 */
export function deriveSkeyidFamily(
  ctx: ExchangeContext,
  sa: NegotiatingIkeSa,
  m: Phase1Material,
): void {
  const alg = sa.alg;
  const ex = sa.exchange;
  const auth = authenticatorFor(sa.peer, ctx.policy.credentials);
  const skeyid = auth.skeyidV1(ctx.crypto, alg.prf, m.ni, m.nr, m.gxy);
  if (isAuthFailure(skeyid)) throw new Phase1Error(skeyid.reason);
  const k = deriveSkeyids(ctx.crypto, alg.prf, skeyid, m.gxy, sa.ckyI, sa.ckyR);
  sa.skeyid = skeyid;
  const encKey = encryptionKey(ctx.crypto, alg.prf, k.skeyidE, alg.keyLength);
  // The keys the SA keeps, in one buffer (an ArrayBuffer per key costs more than its bytes);
  // the derivation's own copies and SKEYID_e (only the encryption key comes from it) zeroed.
  const d = k.skeyidD;
  const au = k.skeyidA;
  const all = new Uint8Array(d.length + au.length + encKey.length);
  all.set(d);
  all.set(au, d.length);
  all.set(encKey, d.length + au.length);
  sa.skeyidD = all.subarray(0, d.length);
  sa.skeyidA = all.subarray(d.length, d.length + au.length);
  sa.encKey = all.subarray(d.length + au.length);
  for (const x of [d, au, encKey, k.skeyidE]) x.fill(0);
  sa.iv = phase1Iv(ctx.crypto, alg.hash, m.gxi, m.gxr, CIPHER_BLOCK[alg.cipher]);
  ex.gxi = m.gxi.slice();
  ex.gxr = m.gxr.slice();
  ex.ni = m.ni.slice();
  ex.nr = m.nr.slice();
  ex.gxy = m.gxy;
}

/** HASH_I (initiator) or HASH_R (responder) of RFC 2409 §5 over the ID payload body. */
export function authHash(ctx: ExchangeContext, sa: IkeSa, idBody: Uint8Array, responder: boolean) {
  const ex = sa.exchange;
  if (sa.alg === undefined || ex?.gxi === undefined || ex.gxr === undefined) {
    throw new Phase1Error("keys not derived");
  }
  return phase1Hash(ctx.crypto, sa.alg.prf, sa.skeyid, {
    gxi: ex.gxi,
    gxr: ex.gxr,
    ckyI: sa.ckyI,
    ckyR: sa.ckyR,
    sai: ex.saiB,
    id: idBody,
    responder,
  });
}

/** The peer's proof payload (HASH for PSK, SIG for signatures), if exactly one is present. */
export function peerProof(payloads: readonly DecodedPayloadV1[]): V1Proof | undefined {
  const hash = one(payloads, "hash");
  const sig = one(payloads, "sig");
  if (hash !== undefined && sig === undefined) return { kind: "hash", data: hash.data };
  if (sig !== undefined && hash === undefined) return { kind: "sig", data: sig.data };
  return undefined;
}

/**
 * Verifies the peer's HASH_I proof (RFC 2409 §5) through the peer's authenticator; the reason
 * of a refusal, or undefined when it verifies.
 */
export function verifyPeer(
  ctx: ExchangeContext,
  sa: IkeSa,
  idBody: Uint8Array,
  proof: V1Proof | undefined,
  payloads: readonly DecodedPayloadV1[],
): string | undefined {
  if (sa.peer === undefined) return "no peer";
  // RFC 2408 §3.9: CERT payloads with X.509 signature certificates are the peer's evidence.
  const certs = all(payloads, "cert").filter((c) => c.encoding === CertEncodingV1.X509_SIGNATURE)
    .map((c) => c.data);
  // IDii_b (RFC 2407 §4.6.2): type, protocol, port, then the identification data.
  const evidence = { idType: idBody[0] ?? 0, idData: idBody.subarray(4), certs };
  const r = authenticatorFor(sa.peer, ctx.policy.credentials)
    // The peer's proof is over HASH_I when we respond, HASH_R when we initiated.
    .verifyV1(authHash(ctx, sa, idBody, sa.role === "initiator"), proof, evidence);
  return r === true ? undefined : r.reason;
}

/** The Authentication Method attribute values `peer` may use (RFC 2409 Appendix A). */
export function authMethodsV1(ctx: ExchangeContext, peer: PeerConfig): readonly number[] {
  return authenticatorFor(peer, ctx.policy.credentials).v1Methods ??
    [AuthMethodV1.PRE_SHARED_KEY];
}

/** CR payloads naming the CAs we trust (RFC 2408 §3.10), for signature authentication. */
export function ourCertRequests(ctx: ExchangeContext, sa: IkeSa): PayloadV1[] {
  if (sa.peer === undefined) return [];
  const names = authenticatorFor(sa.peer, ctx.policy.credentials).certRequestsV1?.() ?? [];
  return names.map((data) => ({ kind: "cr", encoding: CertEncodingV1.X509_SIGNATURE, data }));
}

/**
 * Our proof over HASH_R (responder) or HASH_I (initiator), RFC 2409 §5, from the peer's
 * authenticator: a HASH payload, or CERT payloads (our certificate, then intermediates) and a
 * SIG payload (§5.1).
 */
export function ourProof(ctx: ExchangeContext, sa: IkeSa, idBody: Uint8Array): PayloadV1[] {
  if (sa.peer === undefined) throw new Phase1Error("no peer");
  const p = authenticatorFor(sa.peer, ctx.policy.credentials)
    .proveV1(authHash(ctx, sa, idBody, sa.role === "responder"));
  if (isAuthFailure(p)) throw new Phase1Error(p.reason);
  const certs: PayloadV1[] = (p.certs ?? []).map((data) => ({
    kind: "cert",
    encoding: CertEncodingV1.X509_SIGNATURE,
    data,
  }));
  return [...certs, { kind: p.kind, data: p.data }];
}

/** Our ID payload and its body (IDir_b). */
export function ourId(ctx: ExchangeContext, sa: IkeSa): { payload: IdPayloadV1; body: Uint8Array } {
  const peer = sa.peer;
  if (peer === undefined) throw new Phase1Error("no peer");
  const configured = peer.local_id ?? ctx.policy.config.gateway.local_id;
  const fromAuth = authenticatorFor(peer, ctx.policy.credentials).localId?.(configured);
  const payload: IdPayloadV1 = fromAuth === undefined
    ? idPayload(localIdentity(ctx.policy.config, peer, sa.local.address))
    : { kind: "id", idType: fromAuth.type, protocol: 0, port: 0, data: fromAuth.data };
  return { payload, body: encodeV1Payloads([payload]).slice(4) };
}

/** Our NAT-D payloads (RFC 3947 §3.2: the peer's address first, then ours); none without NAT-T. */
export function ourNatD(ctx: ExchangeContext, sa: IkeSa): NatDPayloadV1[] {
  if (sa.nat.variant === undefined || sa.alg === undefined) return [];
  const type = sa.nat.variant === "rfc" ? PayloadTypeV1.NAT_D : PayloadTypeV1.NAT_D_DRAFT;
  const out: NatDPayloadV1[] = [];
  for (const ep of [sa.remote, sa.local]) {
    const h = natDHash(ctx.crypto, sa.alg.hash, sa.ckyI, sa.ckyR, ep);
    if (h !== undefined) out.push({ kind: "nat-d", type, hash: h });
  }
  return out;
}

/** Applies the peer's NAT-D payloads to `sa.nat` and logs what was found. */
export function applyNatD(ctx: ExchangeContext, sa: IkeSa, payloads: readonly DecodedPayloadV1[]) {
  if (sa.nat.variant === undefined || sa.alg === undefined) return;
  const hashes = all(payloads, "nat-d").map((p) => p.hash);
  const r = detectNat(ctx.crypto, sa.alg.hash, sa.ckyI, sa.ckyR, hashes, sa.local, sa.remote);
  if (r === undefined) return;
  sa.nat.peerBehindNat = r.peerBehindNat;
  sa.nat.selfBehindNat = r.selfBehindNat;
  if (r.peerBehindNat || r.selfBehindNat) {
    ctx.event("info", sa.peerName, "NAT detected; ESP will be UDP-encapsulated", {
      peerBehindNat: r.peerBehindNat,
      selfBehindNat: r.selfBehindNat,
    });
  }
}

/** A datagram on the NAT-T port moves the SA's endpoints there (RFC 3947 §4). */
export function floatTo(ctx: ExchangeContext, sa: IkeSa, a: Arrival): void {
  const nattPort = ctx.policy.config.gateway.natt_port;
  if (a.local.port !== nattPort) return;
  if (
    sa.local.port === a.local.port && sa.remote.address === a.remote.address &&
    sa.remote.port === a.remote.port
  ) return;
  sa.local = a.local;
  sa.remote = a.remote;
  ctx.event("info", sa.peerName, "IKE SA floated to the NAT-T port", {
    remote: `${a.remote.address}:${a.remote.port}`,
  });
}

/**
 * Bookkeeping once Phase 1 is complete: INITIAL-CONTACT drops the peer's older IKE SAs and
 * their children (RFC 2407 §4.6.3.3); otherwise older IKE SAs of the peer are replaced (a
 * Delete is sent for them, their children live on until their own lifetime).
 */
export function established(
  ctx: ExchangeContext,
  sa: IkeSa,
  payloads: readonly DecodedPayloadV1[],
): void {
  sa.state = "ESTABLISHED";
  sa.established = ctx.now;
  sa.lastSeen = ctx.now;
  const peer = sa.peerName;
  const ic = all(payloads, "n").some((n) => n.notifyType === NotifyTypeV1.INITIAL_CONTACT);
  const older = ctx.peerSas(peer).filter((o) => o !== sa);
  if (ic) {
    sa.initialContact = true;
    ctx.phase2.deletePeer(ctx.host, peer, false);
    for (const o of older) ctx.removeSa(o, "INITIAL-CONTACT from the peer");
  } else {
    for (const o of older) {
      if (o.state === "ESTABLISHED") ctx.sendInformational(o, isakmpDelete(o));
      ctx.removeSa(o, "replaced by a new Phase 1");
    }
  }
  ctx.event("info", peer, "IKE SA established", {
    mode: sa.mode,
    algorithms: sa.alg?.text ?? "",
    remote: `${sa.remote.address}:${sa.remote.port}`,
    natt: sa.natt,
    initialContact: ic,
  });
  // Drop what only the exchange needed (the DH private value, nonces), zeroing the secrets
  // first: g^xy and SKEYID (HASH_I/HASH_R only; Phase 2 uses SKEYID_d and SKEYID_a).
  sa.exchange?.gxy?.fill(0);
  sa.exchange = undefined;
  sa.skeyid.fill(0);
  sa.skeyid = NO_KEY;
}

/** The Delete payload naming `sa` (RFC 2408 §3.15: the cookie pair as SPI). */
export function isakmpDelete(sa: IkeSa): PayloadV1 & { kind: "d" } {
  const spi = new Uint8Array(16);
  spi.set(sa.ckyI);
  spi.set(sa.ckyR, 8);
  return { kind: "d", doi: 1, protocol: 1, spiSize: 16, spis: [spi] };
}
