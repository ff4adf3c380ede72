/**
 * The moving parts under the config: the IKE responder and the ESP data path as the daemon
 * drives them. A commit hands the new config and what changed; the views feed `show`.
 * @module
 */

import type { OffloadRouteView } from "../crypto/cryptodev_offload.ts";
import type { Config } from "../config/schema.ts";
import type { DropCount, EspSaView, IkeSaView, PeerView, PkiCertView } from "../shell/host.ts";
import type { ConfigChanges, PeerSecrets } from "./config_diff.ts";

/** The control plane and data path as the daemon sees them. */
export interface GatewayServices {
  /** Short description for `show version` and the start-up log ("IKEv1 responder, ESP …"). */
  readonly description: string;
  /**
   * Applies `config`: starts what is new, stops what was removed, renegotiates changed peers,
   * leaves unchanged peers alone. Returns lines describing what it did beyond the config diff.
   */
  apply(config: Config, secrets: PeerSecrets, changes: ConfigChanges): Promise<string[]>;
  /** Configured peers with their state. */
  peers(config: Config): PeerView[];
  /** IKE SAs. */
  ikeSas(): IkeSaView[];
  /** ESP SAs with counters. */
  espSas(): EspSaView[];
  /** Packets dropped, by layer and reason (`show drops`): unauthenticated input and trap holds. */
  drops?(): DropCount[];
  /** The data path's /dev/crypto offload operations and failures (optional). */
  cryptoRoutes?(): readonly OffloadRouteView[];
  /** Fetches fresh counters for the next views (optional; views may be a second old without). */
  refresh?(): Promise<void>;
  /** Deletes a peer's SAs (Delete notifications sent); a line of outcome. */
  clearIkeSa(peer: string): Promise<string>;
  /** Loaded certificates for `show pki` (optional). */
  pkiView?(): readonly PkiCertView[];
  /** Sends Deletes for every SA, stops sockets, data path and timers. */
  shutdown(): Promise<void>;
}

/**
 * Services when this build has no IKE responder to run: peers are reported as configured but
 * down, with the reason, and there are no SAs.
 */
export function configOnlyServices(reason: string): GatewayServices {
  return {
    description: `config only (${reason})`,
    apply: () => Promise.resolve([]),
    peers: (config) =>
      config.peer.map((p) => ({
        name: p.name,
        remote: p.remote,
        mode: p.mode,
        state: "down",
        ikeSas: 0,
        espSas: 0,
        detail: reason,
      })),
    ikeSas: () => [],
    espSas: () => [],
    clearIkeSa: (peer) => Promise.resolve(`peer ${peer}: no IKE SAs`),
    shutdown: () => Promise.resolve(),
  };
}
