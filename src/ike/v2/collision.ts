/**
 * Exchange collisions (RFC 7296 §2.8.1, §2.8.2, §2.25): which of two crossing rekeys survives,
 * and which requests of the peer get TEMPORARY_FAILURE while a CREATE_CHILD_SA or Delete of
 * ours is in progress. Pure; the rekey task (rekey.ts) applies the outcome.
 * @module
 */

/**
 * RFC 7296 §2.8.1: octet-by-octet comparison; a nonce that is a prefix of the other is the
 * lower one. Negative when `a` is lower, positive when `b` is, 0 when equal.
 */
export function compareNonces(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/** The two nonces of one CREATE_CHILD_SA exchange. */
export interface ExchangeNonces {
  /** Ni. */
  readonly ni: Uint8Array;
  /** Nr. */
  readonly nr: Uint8Array;
}

/**
 * RFC 7296 §2.8.1, §2.8.2: of two crossing rekeys of the same SA, the one whose exchange holds
 * the lowest of the four nonces made the redundant SA. True when that is `ours`.
 */
export function ourRekeyLoses(ours: ExchangeNonces, theirs: ExchangeNonces): boolean {
  const low = (x: ExchangeNonces) => compareNonces(x.ni, x.nr) <= 0 ? x.ni : x.nr;
  return compareNonces(low(ours), low(theirs)) < 0;
}

/** What we are doing on an IKE SA, as far as the peer's requests are concerned. */
export interface OurActivity {
  /** Our CREATE_CHILD_SA in flight: a CHILD_SA rekey or creation, or an IKE SA rekey. */
  readonly task: "child" | "ike" | undefined;
  /** The child our in-flight CHILD_SA rekey replaces. */
  readonly rekeying: string | undefined;
  /** Children we decided to delete (Delete sent or queued). */
  readonly deleting: ReadonlySet<string>;
}

/** The peer's CREATE_CHILD_SA as far as collisions go. */
export interface PeerCreate {
  /** An IKE SA rekey (SA payload of protocol IKE) or a CHILD_SA. */
  readonly kind: "child" | "ike";
  /** The child its REKEY_SA names, when we know it. */
  readonly rekeys: string | undefined;
}

/**
 * RFC 7296 §2.25.1, §2.25.2: why the peer's CREATE_CHILD_SA must be refused with
 * TEMPORARY_FAILURE now, or undefined to answer it as usual (a rekey of the same SA we are
 * rekeying is answered as usual and resolved by the nonces later).
 */
export function temporaryFailure(ours: OurActivity, req: PeerCreate): string | undefined {
  if (req.kind === "ike") {
    if (ours.task === "child") return "an IKE SA rekey while our CHILD_SA exchange is in flight";
    if (ours.deleting.size > 0) return "an IKE SA rekey while we are deleting a CHILD_SA";
    return undefined;
  }
  if (ours.task === "ike") return "a CHILD_SA exchange while we rekey the IKE SA";
  if (req.rekeys !== undefined && ours.deleting.has(req.rekeys)) {
    return "a rekey of a CHILD_SA we are deleting";
  }
  return undefined;
}
