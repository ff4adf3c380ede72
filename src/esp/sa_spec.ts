/**
 * The contract between the control plane (IKE) and the data path (ESP): everything the data
 * path needs to install one unidirectional ESP SA in tunnel mode. IKE builds these from a
 * Quick Mode / CREATE_CHILD_SA result; the data path never looks at IKE state.
 *
 * This module is plain data (structured-clone safe) so it can cross into the data-path Worker.
 * @module
 */

import type { AeadAlg, CipherAlg, MacAlg } from "../crypto/types.ts";

/** An IP address as text ("192.0.2.1", "2001:db8::1"). */
export type IpAddress = string;

/**
 * A traffic selector (RFC 4301 §4.4.1): an address range, an IP protocol (0 = any) and a port
 * range (0..65535 = any).
 */
export interface TrafficSelector {
  /** First address of the range, inclusive. */
  readonly startAddress: IpAddress;
  /** Last address of the range, inclusive. */
  readonly endAddress: IpAddress;
  /** IP protocol number, 0 for any. */
  readonly protocol: number;
  /** First port, inclusive. */
  readonly startPort: number;
  /** Last port, inclusive. */
  readonly endPort: number;
}

/** ESP transform: either an AEAD, or a cipher plus an integrity algorithm (RFC 4303 §3.2). */
export type EspTransform =
  | { readonly kind: "aead"; readonly alg: AeadAlg }
  | { readonly kind: "cipher+mac"; readonly cipher: CipherAlg; readonly mac: MacAlg };

/** Where an SA's packets travel: the outer addresses and, with NAT-T, the UDP ports. */
export interface SaEndpoints {
  /** Our outer address. */
  readonly local: IpAddress;
  /** The peer's outer address. */
  readonly remote: IpAddress;
  /**
   * UDP encapsulation (RFC 3948): ports used for ESP-in-UDP, normally 4500 on our side and
   * whatever port the peer's packets came from. Absent for raw ESP (IP protocol 50).
   */
  readonly encap?: { readonly localPort: number; readonly remotePort: number };
}

/** Soft and hard limits; zero means "no limit". */
export interface SaLifetime {
  /** Seconds after install when IKE should rekey (soft) / the SA must be removed (hard). */
  readonly softSeconds: number;
  /** Hard lifetime in seconds. */
  readonly hardSeconds: number;
  /** Soft byte limit (payload bytes through the SA). */
  readonly softBytes: number;
  /** Hard byte limit. */
  readonly hardBytes: number;
}

/** One unidirectional ESP SA in tunnel mode. */
export interface EspSaSpec {
  /** SPI in host order; for inbound SAs it is the SPI we allocated. */
  readonly spi: number;
  /** Inbound SAs decapsulate packets addressed to `spi`; outbound ones encapsulate. */
  readonly direction: "in" | "out";
  /** Name of the peer (config) this SA belongs to, for counters and `show`. */
  readonly peer: string;
  /**
   * Identifies the IKE-side child SA pair this SA belongs to, so lifetime events can name it.
   * Opaque to the data path.
   */
  readonly childId: string;
  /** Algorithms. */
  readonly transform: EspTransform;
  /**
   * Key material from KEYMAT: for AEAD the key followed by the 4-byte salt (RFC 4106 §8.1,
   * RFC 7634 §4); for cipher+mac the encryption key followed by the integrity key.
   */
  readonly keyMaterial: Uint8Array;
  /** Outer addressing. */
  readonly endpoints: SaEndpoints;
  /** Selectors on our side (the inner source for outbound, inner destination for inbound). */
  readonly localSelectors: readonly TrafficSelector[];
  /** Selectors on the peer's side. */
  readonly remoteSelectors: readonly TrafficSelector[];
  /** Extended sequence numbers negotiated (RFC 4304). */
  readonly esn: boolean;
  /** Anti-replay window in packets (inbound only; 0 disables replay checks). */
  readonly replayWindow: number;
  /** Lifetimes. */
  readonly lifetime: SaLifetime;
  /**
   * Outbound only: the SA is installed on standby and carries nothing until an authenticated
   * packet arrives on the inbound SA with this SPI (the peer has the new pair and sends on
   * it) or the same SA is installed again without this field (IKE finished the exchange).
   * Rekeying then switches in the data path, without waiting for the control plane.
   */
  readonly activateOn?: number;
}

/** Per-SA counters, as the data path reports them. */
export interface EspSaCounters {
  /** SPI of the SA. */
  readonly spi: number;
  /** Direction. */
  readonly direction: "in" | "out";
  /** Packets processed successfully. */
  readonly packets: number;
  /** Inner payload bytes processed successfully. */
  readonly bytes: number;
  /** Inbound packets dropped as replays (or outside the window). */
  readonly replayDrops: number;
  /** Inbound packets whose ICV did not verify. */
  readonly icvFailures: number;
  /** Inbound packets whose decrypted inner header did not match the selectors. */
  readonly policyDrops: number;
  /** Seconds since install. */
  readonly ageSeconds: number;
}

/** Lifetime events the data path raises for the control plane. */
export interface EspLifetimeEvent {
  /** "soft" asks IKE to rekey; "hard" means the data path already removed the SA. */
  readonly kind: "soft" | "hard";
  /** SPI of the SA that reached its limit. */
  readonly spi: number;
  /** Direction of that SA. */
  readonly direction: "in" | "out";
  /** The child SA pair (from the spec). */
  readonly childId: string;
}
