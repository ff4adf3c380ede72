/**
 * Read-only views of the IKE core for `show` and the daemon: IKE SAs of both versions, child
 * SAs and per-peer state. They carry no key material. The shell renders them
 * (src/shell/views.ts); the engine builds them (src/ike/v1/views.ts, src/ike/v2/views.ts).
 * @module
 */

/** One IKE SA as `show ike sa` lists it (IKEv1 ISAKMP SA or IKEv2 IKE SA). */
export interface IkeSaView {
  /** Peer (config name). */
  readonly peer: string;
  /** IKE major version. */
  readonly version: 1 | 2;
  /** Exchange state, e.g. ESTABLISHED, MM_KEY_SENT, IKE_SA_INIT_SENT. */
  readonly state: string;
  /** Our address:port. */
  readonly local: string;
  /** The peer's address:port. */
  readonly remote: string;
  /** Initiator and responder cookies/SPIs, hex. */
  readonly spis: string;
  /** Negotiated algorithms in proposal syntax (aes256-sha256-modp3072), "" while negotiating. */
  readonly algorithms: string;
  /** Seconds since the exchange started. */
  readonly ageSeconds: number;
  /** Seconds until the SA expires, when established. */
  readonly expiresSeconds?: number;
  /** Seconds until the SA is due for a rekey (IKEv2 initiator side of a rekey), when known. */
  readonly rekeySeconds?: number;
}

/** One child SA (both directions) as `show esp sa` needs it. */
export interface ChildSaView {
  /** Peer name. */
  readonly peer: string;
  /** The childId carried in both EspSaSpecs. */
  readonly childId: string;
  /** SPI we allocated (inbound). */
  readonly inboundSpi: number;
  /** SPI the peer allocated (outbound). */
  readonly outboundSpi: number;
  /** Transform in proposal syntax ("aes128gcm16", "aes128-sha256"). */
  readonly transform: string;
  /** Our selectors, joined ("198.51.100.0/24"). */
  readonly localTs: string;
  /** The peer's selectors, joined. */
  readonly remoteTs: string;
  /** UDP-encapsulated (NAT-T or forced). */
  readonly encap: boolean;
  /** PFS group used, 0 without PFS. */
  readonly pfsGroup: number;
  /** "installed", or "rekeyed" while an older SA lingers after its successor arrived. */
  readonly state: "installed" | "rekeyed";
  /** Seconds since install. */
  readonly ageSeconds: number;
}

/** A configured peer's state as the engine sees it (`show peers`). */
export interface PeerStateView {
  /** Peer name. */
  readonly name: string;
  /** "up" (an established IKE SA with at least one child), "connecting", "down". */
  readonly state: "up" | "connecting" | "down";
  /** IKE SAs for this peer (any state). */
  readonly ikeSas: number;
  /** Child SAs (pairs). */
  readonly childSas: number;
  /** Why down (last failure), or "". */
  readonly detail: string;
}
