/**
 * What a shell session needs from the daemon: the running config and its revisions, commit,
 * and read-only views of peers and SAs. The daemon implements it; tests use an in-memory one.
 * Views carry no key material.
 * @module
 */

import type { RawTree } from "../config/parse.ts";
import type { IkeSaView } from "../ike/views.ts";

export type { IkeSaView } from "../ike/views.ts";

/** One ESP SA as `show esp sa` lists it. */
export interface EspSaView {
  /** Peer (config name). */
  readonly peer: string;
  /** Direction. */
  readonly direction: "in" | "out";
  /** SPI, host order. */
  readonly spi: number;
  /** Transform (aes256gcm16). */
  readonly transform: string;
  /** Our side's selectors, joined. */
  readonly localTs: string;
  /** The peer's side's selectors, joined. */
  readonly remoteTs: string;
  /** UDP encapsulated (NAT-T). */
  readonly encap: boolean;
  /** Packets through the SA. */
  readonly packets: number;
  /** Payload bytes through the SA. */
  readonly bytes: number;
  /** Drops: replays, ICV failures, policy mismatches. */
  readonly replayDrops: number;
  /** ICV failures. */
  readonly icvFailures: number;
  /** Selector mismatches after decryption. */
  readonly policyDrops: number;
  /** Seconds since install. */
  readonly ageSeconds: number;
}

/** One drop counter for `show drops`. */
export interface DropCount {
  /** Where: "ike" (IKEv1), "ikev2" or "datapath" (the ESP Worker). */
  readonly layer: string;
  /** Why, e.g. "no-sa", "half-open-per-source", "ike-queue". */
  readonly reason: string;
  /** How many since start. */
  readonly count: number;
}

/** One loaded certificate as `show pki` lists it (never key material). */
export interface PkiCertView {
  /** Peer name. */
  readonly peer: string;
  /** "local", "intermediate" or "anchor". */
  readonly role: string;
  /** Subject DN. */
  readonly subject: string;
  /** notAfter, ISO 8601. */
  readonly notAfter: string;
  /** Whole days until expiry (negative once expired). */
  readonly daysLeft: number;
  /** The file it came from. */
  readonly file: string;
}

/** One configured peer as `show peers` lists it. */
export interface PeerView {
  /** Config name. */
  readonly name: string;
  /** Remote address or %any. */
  readonly remote: string;
  /** main / aggressive. */
  readonly mode: string;
  /** "up", "down", "connecting". */
  readonly state: string;
  /** IKE SAs. */
  readonly ikeSas: number;
  /** ESP SAs (both directions). */
  readonly espSas: number;
  /** Why down, or other detail. */
  readonly detail: string;
}

/** A revision as the shell lists it. */
export interface RevisionView {
  /** Revision number. */
  readonly number: number;
  /** ISO time. */
  readonly time: string;
  /** Who committed. */
  readonly by: string;
  /** Note. */
  readonly note: string;
}

/** Commit request options. */
export interface CommitOptions {
  /** Who commits (session label). */
  readonly by: string;
  /** The running revision the candidate was made from (stale candidates are refused). */
  readonly baseRevision: number;
  /** Minutes until an automatic rollback (commit confirmed N). */
  readonly confirmMinutes?: number;
  /** Validate only. */
  readonly checkOnly?: boolean;
}

/** Outcome of a commit. */
export type CommitOutcome =
  | {
    readonly ok: true;
    /** The running revision afterwards. */
    readonly revision: number;
    /** What was applied, one line each. */
    readonly summary: readonly string[];
  }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The daemon side of a shell session. */
export interface ShellHost {
  /** The running config tree and its revision number (0 when none). */
  running(): { readonly tree: RawTree; readonly revision: number };
  /** Revisions, newest (running) first. */
  revisions(): readonly RevisionView[];
  /** The tree of the revision `back` commits before the running one. */
  revisionTree(back: number): RawTree | undefined;
  /** Validates and applies `tree`; a pending commit confirmed is confirmed by any commit. */
  commit(tree: RawTree, opts: CommitOptions): Promise<CommitOutcome>;
  /** The pending automatic rollback, if a commit confirmed awaits confirmation. */
  pendingConfirm(): { readonly deadline: Date } | undefined;
  /** Configured peers and their state. */
  peers(): readonly PeerView[];
  /** IKE SAs. */
  ikeSas(): readonly IkeSaView[];
  /** ESP SAs with counters. */
  espSas(): readonly EspSaView[];
  /** Makes the next views' counters fresh (optional). */
  refresh?(): Promise<void>;
  /** Deletes a peer's SAs; returns a line of outcome. */
  clearIkeSa(peer: string): Promise<string>;
  /** The newest `n` log lines. */
  logLines(n: number): readonly string[];
  /** Version lines. */
  version(): readonly string[];
  /** Packets dropped, by layer and reason (`show drops`): unauthenticated input and trap holds. */
  drops?(): readonly DropCount[];
  /** Loaded certificates (`show pki`); absent or empty without pubkey peers. */
  pki?(): readonly PkiCertView[];
  /** Runs the crypto self-test; the report lines. */
  selftest(): readonly string[];
  /**
   * `show crypto`: backends, known-answer results, /dev/crypto offload (device, calibration,
   * which backend serves each algorithm); absent on hosts without crypto.
   */
  crypto?(): readonly string[];
}
