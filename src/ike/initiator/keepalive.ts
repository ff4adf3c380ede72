/**
 * NAT keepalives (RFC 3948 §2.3): while we are behind a NAT, a one-octet UDP payload 0xFF is
 * sent to the peer's NAT-T port whenever nothing else was sent for the keepalive interval, so
 * the NAT keeps its mapping. Pure schedule; the caller sends on the NAT-T socket (no non-ESP
 * marker: the single 0xFF octet is the whole payload).
 * @module
 */

/** The NAT-keepalive payload of RFC 3948 §2.3. */
export const NAT_KEEPALIVE = new Uint8Array([0xff]);

/** The keepalive state of one IKE SA behind a NAT. */
export interface KeepaliveState {
  /** When we last sent anything to the peer on the NAT-T port (ms). */
  lastSent: number;
}

/**
 * When the next keepalive is due (ms), or undefined when keepalives are off (`intervalS` 0)
 * or we are not behind a NAT.
 */
export function keepaliveDue(
  k: KeepaliveState,
  selfBehindNat: boolean,
  intervalS: number,
): number | undefined {
  if (!selfBehindNat || intervalS <= 0) return undefined;
  return k.lastSent + intervalS * 1000;
}

/** True (and the state updated) when a keepalive must be sent at `now`. */
export function keepaliveStep(
  k: KeepaliveState,
  selfBehindNat: boolean,
  intervalS: number,
  now: number,
): boolean {
  const due = keepaliveDue(k, selfBehindNat, intervalS);
  if (due === undefined || now < due) return false;
  k.lastSent = now;
  return true;
}
