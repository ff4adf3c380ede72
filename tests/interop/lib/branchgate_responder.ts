/**
 * branchgate as the {@link Responder} under test: the real daemon in the responder namespace,
 * its SA tables read the way an operator reads them (`show ike sa`, `show esp sa` through
 * `branchgate shell`, attached to the daemon's control socket), its log from its stderr.
 * @module
 */

import { BranchgateDaemon } from "./branchgate.ts";
import type { BgConfig, BgPeer } from "./branchgate_conf.ts";
import type { Lab } from "./netns.ts";
import type { Responder, ResponderEspSa, ResponderIkeSa } from "./responder.ts";
import { parseShowEspSa, parseShowIkeSa } from "./show_parse.ts";
import type { WaitOptions } from "./wait.ts";

/** branchgate as the responder. */
export class BranchgateResponder implements Responder {
  /** Which implementation. */
  readonly kind = "branchgate" as const;
  /** The daemon. */
  readonly daemon: BranchgateDaemon;

  private constructor(daemon: BranchgateDaemon) {
    this.daemon = daemon;
  }

  /**
   * Starts the daemon in `setup.ns` listening on `setup.address` with `setup.peers`; `extra`
   * adds `[gateway]` settings and environment (the crypto offload tests).
   */
  static async start(
    lab: Lab,
    setup: { ns: string; address: string; peers: BgPeer[] },
    extra: { config?: Partial<BgConfig>; env?: Record<string, string> } = {},
  ): Promise<BranchgateResponder> {
    const daemon = await BranchgateDaemon.start(lab, {
      name: "bg",
      ns: setup.ns,
      config: { ...extra.config, listen: [setup.address], peers: setup.peers },
      ...(extra.env !== undefined ? { env: extra.env } : {}),
    });
    return new BranchgateResponder(daemon);
  }

  /** `show ike sa`, parsed. */
  async ikeSas(): Promise<ResponderIkeSa[]> {
    return parseShowIkeSa(await this.daemon.show("ike sa"));
  }

  /** `show esp sa`, parsed. */
  async espSas(): Promise<ResponderEspSa[]> {
    return parseShowEspSa(await this.daemon.show("esp sa"));
  }

  /** The daemon's log. */
  log(): Promise<string> {
    return this.daemon.log();
  }

  /** Polls the daemon's log. */
  waitForLog(pattern: RegExp, options: WaitOptions = {}): Promise<string> {
    return this.daemon.waitForLog(pattern, options);
  }
}
