/**
 * The IKE responder under test, seen the same way whichever implementation runs it: its IKE
 * and ESP SA tables in keyword syntax, its log, and stop. branchgate is the product; strongSwan
 * configured from the same peer descriptions is the reference that proves a scenario itself
 * is right (`BG_INTEROP_RESPONDER=strongswan`).
 * @module
 */

import { espTransform, ikeProposal } from "./alg_names.ts";
import type { BgPeer } from "./branchgate_conf.ts";
import type { Lab } from "./netns.ts";
import { StrongswanPeer } from "./strongswan.ts";
import type { SwanConnection, SwanPsk } from "./swanctl_conf.ts";
import type { WaitOptions } from "./wait.ts";

/** One IKE SA in the responder's table. */
export interface ResponderIkeSa {
  /** Peer (config) name. */
  readonly peer: string;
  /** State, e.g. "ESTABLISHED". */
  readonly state: string;
  /** Initiator cookie, 16 lower-case hex digits. */
  readonly initiatorSpi: string;
  /** Responder cookie, 16 lower-case hex digits. */
  readonly responderSpi: string;
  /** Negotiated algorithms, e.g. "aes256-sha256-modp2048". */
  readonly proposal: string;
}

/** One ESP SA (one direction) in the responder's table. */
export interface ResponderEspSa {
  /** Peer (config) name. */
  readonly peer: string;
  /** SPI. */
  readonly spi: number;
  /** Direction as the responder sees it. */
  readonly direction: "in" | "out";
  /** Transform without PFS group, e.g. "aes128gcm16", "aes128-sha256". */
  readonly transform: string;
  /** Packets through this SA. */
  readonly packets: number;
}

/** What the suite needs of a responder. */
export interface Responder {
  /** Which implementation. */
  readonly kind: "branchgate" | "strongswan";
  /** Current IKE SAs. */
  ikeSas(): Promise<ResponderIkeSa[]>;
  /** Current ESP SAs. */
  espSas(): Promise<ResponderEspSa[]>;
  /** Its log so far. */
  log(): Promise<string>;
  /** Polls its log for a line matching `pattern`. */
  waitForLog(pattern: RegExp, options?: WaitOptions): Promise<string>;
}

/** The description of the responder's side: addresses, identity, peers. */
export interface ResponderSetup {
  /** Namespace to run in. */
  readonly ns: string;
  /** Our outer address. */
  readonly address: string;
  /** Our identity (default: our address). */
  readonly localId?: string;
  /** The peers. */
  readonly peers: readonly BgPeer[];
}

/** A peer description as a strongSwan responder connection. */
export function swanResponderConnection(setup: ResponderSetup, p: BgPeer): SwanConnection {
  // Explicit identities: Main Mode PSK lookup must not fall back to %any and pick another
  // peer's key.
  const localId = p.localId ?? setup.localId ?? setup.address;
  const remoteId = p.remoteId ?? (p.remote === "%any" ? undefined : p.remote);
  return {
    name: p.name,
    version: p.ikeVersion ?? 1,
    aggressive: p.mode === "aggressive",
    localAddrs: [setup.address],
    remoteAddrs: [p.remote],
    proposals: p.ikeProposals ?? ["aes256-sha256-modp3072", "aes128-sha256-modp2048"],
    encap: p.encap ?? false,
    localId,
    ...(remoteId === undefined ? {} : { remoteId }),
    dpdDelay: p.dpdDelay ?? 0,
    ...(p.dpdTimeout === undefined ? {} : { dpdTimeout: p.dpdTimeout }),
    children: [{
      name: p.name,
      localTs: p.localTs,
      remoteTs: p.remoteTs,
      espProposals: p.espProposals ?? ["aes256gcm16", "aes128gcm16"],
    }],
  };
}

/** strongSwan as the reference responder. */
export class StrongswanResponder implements Responder {
  /** Which implementation. */
  readonly kind = "strongswan" as const;
  /** The charon. */
  readonly peer: StrongswanPeer;

  private constructor(peer: StrongswanPeer) {
    this.peer = peer;
  }

  /** Starts charon in `setup.ns` with one responder connection per peer. */
  static async start(lab: Lab, setup: ResponderSetup): Promise<StrongswanResponder> {
    const secrets: SwanPsk[] = setup.peers.flatMap((p, i) =>
      p.psk === undefined ? [] : [{
        name: `p${i}`,
        ids: [p.remoteId ?? p.remote, p.localId ?? setup.localId ?? setup.address],
        secret: p.psk,
      }]
    );
    const peer = await StrongswanPeer.start(lab, {
      name: "resp",
      ns: setup.ns,
      config: { connections: setup.peers.map((p) => swanResponderConnection(setup, p)), secrets },
      charon: { logLevels: { ike: 2, cfg: 2 }, aggressivePskResponder: true },
    });
    return new StrongswanResponder(peer);
  }

  /** Current IKE SAs. */
  async ikeSas(): Promise<ResponderIkeSa[]> {
    return (await this.peer.listSas()).map((sa) => ({
      peer: sa.name,
      state: sa.state,
      initiatorSpi: sa.initiatorSpi,
      responderSpi: sa.responderSpi,
      proposal: ikeProposal(sa),
    }));
  }

  /** Current ESP SAs, two per CHILD_SA. */
  async espSas(): Promise<ResponderEspSa[]> {
    return (await this.peer.listSas()).flatMap((sa) =>
      sa.children.flatMap((c): ResponderEspSa[] => [
        {
          peer: sa.name,
          spi: c.spiIn,
          direction: "in",
          transform: espTransform(c),
          packets: c.packetsIn,
        },
        {
          peer: sa.name,
          spi: c.spiOut,
          direction: "out",
          transform: espTransform(c),
          packets: c.packetsOut,
        },
      ])
    );
  }

  /** charon's log. */
  log(): Promise<string> {
    return this.peer.log();
  }

  /** Polls charon's log. */
  waitForLog(pattern: RegExp, options: WaitOptions = {}): Promise<string> {
    return this.peer.waitForLog(pattern, options);
  }
}
