/**
 * Rekeys we start ourselves, whichever side initiated the IKE SA (RFC 7296 §1.3.2, §1.3.3,
 * §2.8): a CHILD_SA at its soft lifetime (jittered, child.ts) and the IKE SA before
 * ike_lifetime (rekey_margin with up to a quarter of it at random). One CREATE_CHILD_SA of
 * ours at a time per IKE SA (window 1, §2.3); others wait in a queue.
 *
 *     CHILD_SA:  HDR, SK {N(REKEY_SA), SA, Ni, [KEi,] TSi, TSr}  -->
 *                                      <--  HDR, SK {SA, Nr, [KEr,] TSi, TSr}
 *     IKE SA:    HDR, SK {SA, Ni, KEi}  -->  <--  HDR, SK {SA, Nr, KEr}
 *
 * Make-before-break: the new pair is installed (inbound, then outbound) before the old child
 * is deleted (an INFORMATIONAL Delete of ours; the old pair goes when it is answered), and the
 * IKE SA's children move to the new IKE SA before the old one is deleted (§2.18). PFS when
 * the configured ESP proposal has a group. Answers: INVALID_KE_PAYLOAD → again with the group
 * asked for, if we offer it; TEMPORARY_FAILURE → again after a random wait (§2.25);
 * CHILD_SA_NOT_FOUND → the child is made again from scratch and the old one dropped silently;
 * NO_PROPOSAL_CHOSEN and others → logged, the SA runs to its hard lifetime. Crossing rekeys of
 * the same SA are resolved by the nonces (collision.ts, §2.8.1, §2.8.2).
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import type { DhKeyPair } from "../../crypto/types.ts";
import type { DhGroupId } from "../../crypto/types.ts";
import type { TrafficSelector } from "../../esp/sa_spec.ts";
import { groupName } from "../algorithms.ts";
import type { ChildSa } from "../child/child_sa.ts";
import { jitterSoft } from "../child/spec.ts";
import { spiBytes, SpiExhaustedError, spiHex, spiNumber } from "../child/spi.ts";
import { nameOf } from "../message/names.ts";
import { ExchangeTypeV2, NotifyTypeV2, ProtocolV2 } from "../message/v2/registry.ts";
import type { DecodedPayloadV2, PayloadV2 } from "../message/v2/types.ts";
import { hex } from "../sa.ts";
import { childInstaller, configured } from "./child.ts";
import { type OurActivity, ourRekeyLoses, type PeerCreate, temporaryFailure } from "./collision.ts";
import {
  type AnswerV2,
  type CreatedV2,
  notifies,
  notify,
  oneOf,
  type V2Context,
} from "./context.ts";
import { rekeyedIkeSa } from "./create_child_sa.ts";
import { offeredGroups, offerV2 } from "./offer.ts";
import { parseV2Proposals, selectEspV2, selectIkeV2 } from "./proposal.ts";
import type { IkeSaV2 } from "./sa.ts";
import { narrowAll, toTsV2 } from "./ts_payload.ts";

/** Length of our nonces. */
const NONCE_LENGTH = 32;
/** INVALID_KE_PAYLOAD retries per rekey. */
const MAX_KE_RETRIES = 2;
/** After TEMPORARY_FAILURE we wait this long plus up to as much again at random (ms). */
const TEMPORARY_WAIT_MS = 5_000;
/** TEMPORARY_FAILURE retries before the SA is left to its hard lifetime. */
const MAX_TEMPORARY_RETRIES = 6;

/** How the engine sends a request of ours (window 1); undefined when one is outstanding. */
export type SendRequest = (
  ctx: V2Context,
  sa: IkeSaV2,
  exchange: number,
  payloads: readonly PayloadV2[],
  purpose: "rekey" | "delete",
) => number | undefined;

interface ChildTask {
  readonly kind: "child";
  /** The child replaced; undefined when made from scratch after CHILD_SA_NOT_FOUND. */
  readonly old: string;
  /** REKEY_SA is sent (false: the child is made again from scratch). */
  readonly rekey: boolean;
  readonly ni: Uint8Array;
  readonly group: number;
  readonly dh: DhKeyPair | undefined;
  readonly spi: number;
  readonly localTs: readonly TrafficSelector[];
  readonly remoteTs: readonly TrafficSelector[];
  readonly keRetries: number;
  readonly tempRetries: number;
  readonly messageId: number;
  /** The peer's rekey of the same child that crossed ours (answered by us). */
  peer?: CreatedV2;
  /** Made after the peer deleted the IKE SA's last child: a refusal ends the IKE SA. */
  readonly remake: boolean;
}

/** What a CHILD_SA request is made from: the child it replaces, or the configured selectors. */
interface ChildSource {
  readonly childId: string;
  readonly inbound: {
    readonly spi: number;
    readonly localSelectors: readonly TrafficSelector[];
    readonly remoteSelectors: readonly TrafficSelector[];
  };
}

interface IkeTask {
  readonly kind: "ike";
  readonly ni: Uint8Array;
  readonly group: number;
  readonly dh: DhKeyPair;
  readonly spi: Uint8Array;
  readonly keRetries: number;
  readonly tempRetries: number;
  readonly messageId: number;
  /** The peer's IKE SA rekey that crossed ours (answered by us). */
  peer?: CreatedV2;
}

/** Per IKE SA bookkeeping. */
interface SaRekey {
  /** When the IKE SA is due for a rekey (ms). */
  ikeAt: number;
  /** Retry of a refused IKE SA rekey (TEMPORARY_FAILURE count). */
  ikeTemp: number;
  /** Children due for a rekey, waiting for the window; with the TEMPORARY_FAILURE count. */
  readonly queue: Map<string, { at: number; temp: number }>;
  /** Our CREATE_CHILD_SA in flight. */
  task: ChildTask | IkeTask | undefined;
  /** Children we delete: queued, or named by our Delete in flight (by message ID). */
  readonly deleting: Set<string>;
  /** Deletes waiting for the window. */
  readonly deleteQueue: string[];
  /** Our SPIs of children already gone (hard lifetime) whose Delete waits for the window. */
  readonly goneQueue: Uint8Array[];
  /** Our Delete in flight: its message ID and the children it names. */
  inflightDelete: { messageId: number; children: string[] } | undefined;
  /** A child to make from scratch (the peer deleted the last one), waiting for the window. */
  remake: boolean;
}

/** Rekeys of our own on every IKE SA of the engine. */
export class RekeyV2 {
  readonly #send: SendRequest;
  readonly #random: (n: number) => Uint8Array;
  readonly #sas = new Map<string, SaRekey>();

  /**
   * Sends through `send` (the engine's request path: protection, window, retransmission);
   * jitter from `random`.
   */
  constructor(send: SendRequest, random: (n: number) => Uint8Array) {
    this.#send = send;
    this.#random = random;
  }

  #state(sa: IkeSaV2, peer: PeerConfig): SaRekey {
    let s = this.#sas.get(sa.key);
    if (s === undefined) {
      // rekey_margin before expiry, up to a quarter of it earlier at random (RFC 7296 §2.8.1,
      // as for children); a margin as long as the lifetime rekeys at half of it.
      const life = peer.ike_lifetime;
      const margin = peer.rekey_margin;
      const soft = jitterSoft(
        {
          softSeconds: life > margin ? life - margin : life / 2,
          hardSeconds: life,
          softBytes: 0,
          hardBytes: 0,
        },
        margin,
        this.#random(1)[0]!,
      ).softSeconds;
      s = {
        ikeAt: sa.expiresAt - (life - soft) * 1000,
        ikeTemp: 0,
        queue: new Map(),
        task: undefined,
        deleting: new Set(),
        deleteQueue: [],
        goneQueue: [],
        inflightDelete: undefined,
        remake: false,
      };
      this.#sas.set(sa.key, s);
    }
    return s;
  }

  /** The IKE SA `key` is gone: forget its tasks and free a reserved SPI. */
  forget(ctx: V2Context, key: string): void {
    const s = this.#sas.get(key);
    if (s === undefined) return;
    if (s.task?.kind === "child") ctx.store.spis.release(s.task.spi);
    this.#sas.delete(key);
  }

  /** When the IKE SA is due for our rekey (ms), for `show ike sa`. */
  ikeRekeyAt(sa: IkeSaV2): number | undefined {
    const at = this.#sas.get(sa.key)?.ikeAt;
    return at === undefined || at === Infinity ? undefined : at;
  }

  /** The earliest time {@link tick} has something to do on `sa`. */
  deadline(sa: IkeSaV2): number | undefined {
    if (sa.state.kind !== "established") return undefined;
    const s = this.#state(sa, sa.state.peer);
    if (sa.outstanding !== undefined || s.task !== undefined) return undefined;
    let at = s.ikeAt;
    if (s.deleteQueue.length > 0 || s.goneQueue.length > 0 || s.remake) at = 0;
    for (const q of s.queue.values()) at = Math.min(at, q.at);
    return at === Infinity ? undefined : at;
  }

  /** What we are doing on `sa` (collision.ts). */
  #activity(sa: IkeSaV2): OurActivity {
    const s = this.#sas.get(sa.key);
    return {
      task: s?.task?.kind,
      rekeying: s?.task?.kind === "child" ? s.task.old : undefined,
      deleting: s?.deleting ?? new Set(),
    };
  }

  /**
   * The data path's soft lifetime of `child` (either direction): queue its rekey unless it is
   * already replaced, queued or being rekeyed; start it when the window is free.
   */
  childSoft(ctx: V2Context, sa: IkeSaV2, peer: PeerConfig, child: ChildSa): void {
    const s = this.#state(sa, peer);
    if (child.state !== "installed" || s.queue.has(child.childId)) return;
    if (s.task?.kind === "child" && s.task.old === child.childId) return;
    if (s.deleting.has(child.childId)) return;
    ctx.event("info", peer.name, "CHILD_SA soft lifetime reached; rekeying", {
      childId: child.childId,
    });
    s.queue.set(child.childId, { at: ctx.now, temp: 0 });
    this.tick(ctx, sa, peer);
  }

  /**
   * The last CHILD_SA of `sa` is gone (`why`: the peer deleted it, or it expired) while the
   * peer's tunnel is to stay up (`start`): make one again from scratch with the configured
   * selectors (RFC 7296 §1.3.1) when the window is free. A refusal deletes the IKE SA ("no
   * CHILD_SA left", a loss: re-dialled).
   */
  remake(ctx: V2Context, sa: IkeSaV2, peer: PeerConfig, why: string): void {
    const s = this.#state(sa, peer);
    if (s.task?.kind === "child" && s.task.remake) return;
    ctx.event("info", peer.name, `${why}; making it again`);
    ctx.failure(peer.name, `${why}; making it again`);
    s.remake = true;
    this.tick(ctx, sa, peer);
  }

  /**
   * Starts what is due on `sa` while no request of ours is outstanding: queued Deletes first,
   * then a child made again, the IKE SA rekey, queued CHILD_SA rekeys. True when a request
   * was sent.
   */
  tick(ctx: V2Context, sa: IkeSaV2, peer: PeerConfig): boolean {
    const s = this.#state(sa, peer);
    if (sa.outstanding !== undefined || s.task !== undefined) return false;
    if (s.deleteQueue.length > 0 || s.goneQueue.length > 0) {
      return this.#sendDeletes(ctx, sa, peer, s);
    }
    if (s.remake) {
      s.remake = false;
      // A rekey in flight meanwhile may have brought a child back.
      if (ctx.store.children.forIkeSa(sa.key).length > 0) return this.tick(ctx, sa, peer);
      const source: ChildSource = {
        childId: "",
        inbound: {
          spi: 0,
          localSelectors: configured(peer.local_ts),
          remoteSelectors: configured(peer.remote_ts),
        },
      };
      const group = offeredGroups(peer.esp_proposals, "esp")[0] ?? 0;
      return this.#startChild(ctx, sa, peer, s, source, group, 0, 0, false, undefined, true);
    }
    if (ctx.now >= s.ikeAt) {
      s.ikeAt = Infinity;
      const groups = offeredGroups(peer.ike_proposals);
      const group = groups.includes(sa.alg.group) ? sa.alg.group : groups[0] ?? sa.alg.group;
      return this.#startIke(ctx, sa, peer, s, group, 0, s.ikeTemp);
    }
    for (const [id, q] of s.queue) {
      if (ctx.now < q.at) continue;
      s.queue.delete(id);
      const child = ctx.store.children.get(id);
      if (child === undefined || child.ikeSa !== sa.key || child.state !== "installed") continue;
      const group = offeredGroups(peer.esp_proposals, "esp")[0] ?? 0;
      return this.#startChild(ctx, sa, peer, s, child, group, 0, q.temp, true);
    }
    return false;
  }

  #startChild(
    ctx: V2Context,
    sa: IkeSaV2,
    peer: PeerConfig,
    s: SaRekey,
    child: ChildSource,
    group: number,
    keRetries: number,
    tempRetries: number,
    rekey: boolean,
    reuseSpi?: number,
    remake = false,
  ): boolean {
    let spi = reuseSpi;
    if (spi === undefined) {
      try {
        spi = ctx.store.spis.allocate();
      } catch (e) {
        if (!(e instanceof SpiExhaustedError)) throw e;
        ctx.event("error", peer.name, `CHILD_SA rekey not started: ${e.message}`);
        return false;
      }
    }
    const ni = ctx.crypto.randomBytes(NONCE_LENGTH);
    const dh = group === 0 ? undefined : ctx.crypto.dh(group as DhGroupId).generate();
    const localTs = child.inbound.localSelectors;
    const remoteTs = child.inbound.remoteSelectors;
    const payloads: PayloadV2[] = [];
    if (rekey) {
      // RFC 7296 §1.3.3, §2.8.1 (N(REKEY_SA, SPIa1)): our SPI of the child being rekeyed.
      payloads.push({
        kind: "n",
        protocol: ProtocolV2.ESP,
        spi: spiBytes(child.inbound.spi),
        notifyType: NotifyTypeV2.REKEY_SA,
        data: new Uint8Array(0),
      });
    }
    payloads.push(
      { kind: "sa", proposals: offerV2(peer.esp_proposals, "esp", spiBytes(spi), group !== 0) },
      { kind: "nonce", data: ni },
    );
    if (dh !== undefined) payloads.push({ kind: "ke", group, data: dh.publicValue });
    // RFC 7296 §2.9: TSi is the exchange initiator's side (ours), TSr the peer's.
    payloads.push(
      { kind: "tsi", selectors: localTs.map(toTsV2) },
      { kind: "tsr", selectors: remoteTs.map(toTsV2) },
    );
    const messageId = this.#send(ctx, sa, ExchangeTypeV2.CREATE_CHILD_SA, payloads, "rekey");
    if (messageId === undefined) {
      if (reuseSpi === undefined) ctx.store.spis.release(spi);
      if (remake) s.remake = true;
      else s.queue.set(child.childId, { at: ctx.now, temp: tempRetries });
      return false;
    }
    s.task = {
      kind: "child",
      old: child.childId,
      rekey,
      ni,
      group,
      dh,
      spi,
      localTs,
      remoteTs,
      keRetries,
      tempRetries,
      messageId,
      remake,
    };
    ctx.event("info", peer.name, rekey ? "CHILD_SA rekey started" : "CHILD_SA recreated", {
      childId: child.childId,
      spiIn: spiHex(spi),
      ...(group === 0 ? {} : { pfs: groupName(group) }),
    });
    return true;
  }

  #startIke(
    ctx: V2Context,
    sa: IkeSaV2,
    peer: PeerConfig,
    s: SaRekey,
    group: number,
    keRetries: number,
    tempRetries: number,
  ): boolean {
    const spi = ctx.crypto.randomBytes(8);
    if (spi.every((b) => b === 0)) spi[7] = 1;
    const ni = ctx.crypto.randomBytes(NONCE_LENGTH);
    const dh = ctx.crypto.dh(group as DhGroupId).generate();
    const messageId = this.#send(ctx, sa, ExchangeTypeV2.CREATE_CHILD_SA, [
      { kind: "sa", proposals: offerV2(peer.ike_proposals, "ike", spi) },
      { kind: "nonce", data: ni },
      { kind: "ke", group, data: dh.publicValue },
    ], "rekey");
    if (messageId === undefined) {
      s.ikeAt = ctx.now;
      return false;
    }
    s.task = { kind: "ike", ni, group, dh, spi, keRetries, tempRetries, messageId };
    ctx.event("info", peer.name, "IKE SA rekey started", { group: groupName(group) });
    return true;
  }

  // ---- the peer's requests while ours are in flight ----

  /**
   * A CREATE_CHILD_SA of the peer, before it is answered: TEMPORARY_FAILURE when it collides
   * with ours in a way §2.25 refuses, else undefined (answer as usual).
   */
  guard(ctx: V2Context, sa: IkeSaV2, peer: PeerConfig, payloads: readonly DecodedPayloadV2[]) {
    const saP = oneOf(payloads, "sa");
    const kind = saP?.proposals.some((p) => p.protocol === ProtocolV2.IKE) ? "ike" : "child";
    const rekey = notifies(payloads, NotifyTypeV2.REKEY_SA)[0];
    const spi = rekey === undefined ? undefined : spiNumber(rekey.spi);
    const named = spi === undefined ? undefined : ctx.store.children.findBySpi(peer.name, spi);
    const req: PeerCreate = { kind, rekeys: named?.childId };
    const why = temporaryFailure(this.#activity(sa), req);
    if (why === undefined) return undefined;
    ctx.event("info", peer.name, `TEMPORARY_FAILURE: ${why}`);
    const answer: AnswerV2 = { payloads: [notify(NotifyTypeV2.TEMPORARY_FAILURE)] };
    return answer;
  }

  /**
   * The peer's CREATE_CHILD_SA was answered (and what it made installed): a rekey of the SA
   * our own rekey in flight replaces is remembered for the nonce comparison (§2.8.1).
   */
  answered(sa: IkeSaV2, created: CreatedV2 | undefined): void {
    const s = this.#sas.get(sa.key);
    const fresh = created?.ikeSa;
    if (s !== undefined && fresh !== undefined && fresh.state.kind === "established") {
      // The peer rekeyed the IKE SA: children waiting for our rekey wait on the new one.
      const next = this.#state(fresh, fresh.state.peer);
      for (const [id, q] of s.queue) next.queue.set(id, q);
    }
    const t = s?.task;
    if (created === undefined || t === undefined) return;
    if (t.kind === "ike" && created.kind === "ike") t.peer = created;
    if (t.kind === "child" && created.kind === "child" && created.rekeys === t.old) {
      t.peer = created;
    }
  }

  // ---- answers to our requests ----

  /**
   * The authenticated answer to our request `messageId` on `sa` (the engine cleared the
   * window). Returns false when it was not ours (a liveness check).
   */
  response(
    ctx: V2Context,
    sa: IkeSaV2,
    peer: PeerConfig,
    messageId: number,
    payloads: readonly DecodedPayloadV2[],
  ): boolean {
    const s = this.#sas.get(sa.key);
    if (s === undefined) return false;
    const d = s.inflightDelete;
    if (d !== undefined && d.messageId === messageId) {
      s.inflightDelete = undefined;
      for (const id of d.children) {
        s.deleting.delete(id);
        const c = ctx.store.children.get(id);
        if (c === undefined) continue;
        for (const a of ctx.store.children.remove(id)) ctx.emit(a);
        ctx.event("info", peer.name, "CHILD_SA deleted (our Delete answered)", {
          childId: id,
          spiIn: spiHex(c.inbound.spi),
          spiOut: spiHex(c.outbound.spi),
        });
      }
      this.tick(ctx, sa, peer);
      return true;
    }
    const t = s.task;
    if (t === undefined || t.messageId !== messageId) return false;
    s.task = undefined;
    if (t.kind === "child") this.#childAnswer(ctx, sa, peer, s, t, payloads);
    else this.#ikeAnswer(ctx, sa, peer, s, t, payloads);
    if (this.#sas.get(sa.key) === s && sa.state.kind === "established") this.tick(ctx, sa, peer);
    return true;
  }

  /** The error Notify of an answer, if any (RFC 7296 §3.10.1: types below 16384). */
  #error(payloads: readonly DecodedPayloadV2[]): { type: number; data: Uint8Array } | undefined {
    for (const p of payloads) {
      if (p.kind === "n" && p.notifyType < 16384) return { type: p.notifyType, data: p.data };
    }
    return undefined;
  }

  #childAnswer(
    ctx: V2Context,
    sa: IkeSaV2,
    peer: PeerConfig,
    s: SaRekey,
    t: ChildTask,
    payloads: readonly DecodedPayloadV2[],
  ): void {
    const name = peer.name;
    const old = ctx.store.children.get(t.old);
    const fail = (why: string, fields: Record<string, string> = {}) => {
      ctx.store.spis.release(t.spi);
      if (t.remake) {
        // The IKE SA would stay without a child: it goes, and the peer is dialled again.
        ctx.event("warn", name, `CHILD_SA not made again: ${why}`, fields);
        ctx.failure(name, `CHILD_SA not made again: ${why}`);
        ctx.removeSa(sa, "no CHILD_SA left", true);
        return;
      }
      ctx.event("warn", name, `CHILD_SA rekey failed: ${why}`, { childId: t.old, ...fields });
      ctx.failure(name, `CHILD_SA rekey failed: ${why}`);
    };
    const err = this.#error(payloads);
    if (err !== undefined && t.remake) {
      const g = err.data.length === 2 ? (err.data[0]! << 8) | err.data[1]! : 0;
      const again = err.type === NotifyTypeV2.INVALID_KE_PAYLOAD && t.keRetries < MAX_KE_RETRIES &&
        g !== t.group && offeredGroups(peer.esp_proposals, "esp").includes(g);
      if (!again) return fail(`the peer answered ${nameOf(NotifyTypeV2, err.type)}`);
      const source = {
        childId: "",
        inbound: { spi: 0, localSelectors: t.localTs, remoteSelectors: t.remoteTs },
      };
      this.#startChild(ctx, sa, peer, s, source, g, t.keRetries + 1, 0, false, t.spi, true);
      return;
    }
    if (err !== undefined) {
      const type = nameOf(NotifyTypeV2, err.type);
      if (t.peer !== undefined) {
        // §2.8.1: the peer's crossing rekey of the same child is the one that happened.
        ctx.store.spis.release(t.spi);
        ctx.event("info", name, `CHILD_SA rekey collision: the peer's rekey stands (${type})`, {
          childId: t.old,
        });
        return;
      }
      if (old === undefined) {
        ctx.store.spis.release(t.spi);
        ctx.event("info", name, `CHILD_SA rekey answered ${type}; the child is gone meanwhile`, {
          childId: t.old,
        });
        return;
      }
      if (err.type === NotifyTypeV2.INVALID_KE_PAYLOAD) {
        const g = err.data.length === 2 ? (err.data[0]! << 8) | err.data[1]! : 0;
        const offered = offeredGroups(peer.esp_proposals, "esp");
        if (t.keRetries >= MAX_KE_RETRIES || g === t.group || !offered.includes(g)) {
          return fail(`INVALID_KE_PAYLOAD asks for group ${g}, which we do not offer`);
        }
        ctx.event("info", name, `INVALID_KE_PAYLOAD: the peer wants ${groupName(g)}; again`, {
          childId: t.old,
        });
        this.#startChild(ctx, sa, peer, s, old, g, t.keRetries + 1, t.tempRetries, t.rekey, t.spi);
        return;
      }
      if (err.type === NotifyTypeV2.TEMPORARY_FAILURE) {
        ctx.store.spis.release(t.spi);
        if (t.tempRetries >= MAX_TEMPORARY_RETRIES) return fail("TEMPORARY_FAILURE, given up");
        // RFC 7296 §2.25: wait before retrying, so the peer completes what it is doing.
        const wait = TEMPORARY_WAIT_MS * (1 + ctx.crypto.randomBytes(1)[0]! / 256);
        s.queue.set(t.old, { at: ctx.now + wait, temp: t.tempRetries + 1 });
        ctx.event("info", name, "CHILD_SA rekey: TEMPORARY_FAILURE; retrying later", {
          childId: t.old,
          waitMs: Math.round(wait),
        });
        return;
      }
      if (err.type === NotifyTypeV2.CHILD_SA_NOT_FOUND && t.rekey) {
        // RFC 7296 §2.25: the peer has no such child; make it again from scratch.
        ctx.event("info", name, "CHILD_SA_NOT_FOUND: the child is made again", { childId: t.old });
        this.#startChild(ctx, sa, peer, s, old, t.group, t.keRetries, t.tempRetries, false, t.spi);
        return;
      }
      return fail(`the peer answered ${type}`);
    }
    // Success: the peer installed the pair when it answered.
    const saP = oneOf(payloads, "sa");
    const nr = oneOf(payloads, "nonce");
    const tsi = oneOf(payloads, "tsi");
    const tsr = oneOf(payloads, "tsr");
    if (
      saP === undefined || nr === undefined || tsi === undefined || tsr === undefined ||
      nr.data.length < 16 || nr.data.length > 256 || saP.proposals.length !== 1
    ) {
      return fail("the answer lacks one SA, Nr, TSi and TSr");
    }
    const esp = parseV2Proposals(peer.esp_proposals, "esp");
    const sel = selectEspV2(saP, esp, "as-configured");
    if (!sel.ok) return fail("the peer chose what we did not offer", { chosen: sel.offered });
    // RFC 7296 §1.3.1: a proposal without a group (NONE) ignores our KE; another group is
    // answered INVALID_KE_PAYLOAD, never chosen.
    if (sel.alg.group !== 0 && sel.alg.group !== t.group) {
      return fail(`the peer chose group ${sel.alg.group}, our KE is ${t.group}`);
    }
    const peerSpi = spiNumber(sel.offered.spi);
    if (peerSpi === undefined || peerSpi === 0) return fail("the peer's ESP SPI is invalid");
    let gir: Uint8Array | undefined;
    if (t.dh !== undefined && sel.alg.group !== 0) {
      const ke = oneOf(payloads, "ke");
      if (ke === undefined || ke.group !== t.group) return fail("KEr missing or of another group");
      try {
        gir = t.dh.computeShared(ke.data);
      } catch {
        return fail("KEr invalid");
      }
    }
    // §2.9: the answer narrows our selectors; anything outside them is refused.
    const localTs = narrowAll(tsi.selectors, t.localTs);
    const remoteTs = narrowAll(tsr.selectors, t.remoteTs);
    if (localTs.length === 0 || remoteTs.length === 0) {
      return fail("the answered selectors are outside ours");
    }
    const id = childInstaller(ctx, {
      sa,
      peer,
      alg: sel.alg,
      ni: t.ni,
      nr: nr.data,
      gir,
      inboundSpi: t.spi,
      outboundSpi: peerSpi,
      localTs,
      remoteTs,
      weInitiated: true,
      ...(old === undefined || !t.rekey ? {} : { rekeys: old }),
    })();
    const lost = t.peer !== undefined &&
      ourRekeyLoses({ ni: t.ni, nr: nr.data }, { ni: t.peer.ni, nr: t.peer.nr });
    // childInstaller logged the rekey ("CHILD_SA rekeyed", initiated); what it cannot know:
    if (!t.rekey) {
      ctx.event("info", name, "CHILD_SA made again (the peer had lost it)", {
        childId: id,
        replaces: t.old,
      });
    }
    if (t.peer !== undefined) {
      ctx.event(
        "info",
        name,
        `CHILD_SA rekey collision: ${lost ? "ours is redundant and deleted" : "ours stands"}`,
        {
          childId: id,
          peers: t.peer.childId ?? "",
        },
      );
    }
    if (!t.rekey) {
      // §2.25: the peer does not know the old child: it goes silently.
      if (old !== undefined) {
        for (const a of ctx.store.children.remove(old.childId)) ctx.emit(a);
      }
      return;
    }
    // §2.8.1: the loser's initiator closes its redundant new child; the winner's the old one.
    this.#queueDelete(s, lost ? id : t.old);
  }

  #ikeAnswer(
    ctx: V2Context,
    sa: IkeSaV2,
    peer: PeerConfig,
    s: SaRekey,
    t: IkeTask,
    payloads: readonly DecodedPayloadV2[],
  ): void {
    const name = peer.name;
    const fail = (why: string) => {
      ctx.event("warn", name, `IKE SA rekey failed: ${why}`);
      ctx.failure(name, `IKE SA rekey failed: ${why}`);
    };
    const err = this.#error(payloads);
    if (err !== undefined) {
      const type = nameOf(NotifyTypeV2, err.type);
      if (t.peer !== undefined) {
        ctx.event("info", name, `IKE SA rekey collision: the peer's rekey stands (${type})`);
        return;
      }
      if (err.type === NotifyTypeV2.INVALID_KE_PAYLOAD) {
        const g = err.data.length === 2 ? (err.data[0]! << 8) | err.data[1]! : 0;
        if (
          t.keRetries >= MAX_KE_RETRIES || g === t.group ||
          !offeredGroups(peer.ike_proposals).includes(g)
        ) {
          return fail(`INVALID_KE_PAYLOAD asks for group ${g}, which we do not offer`);
        }
        ctx.event("info", name, `INVALID_KE_PAYLOAD: the peer wants ${groupName(g)}; again`);
        this.#startIke(ctx, sa, peer, s, g, t.keRetries + 1, t.tempRetries);
        return;
      }
      if (err.type === NotifyTypeV2.TEMPORARY_FAILURE && t.tempRetries < MAX_TEMPORARY_RETRIES) {
        const wait = TEMPORARY_WAIT_MS * (1 + ctx.crypto.randomBytes(1)[0]! / 256);
        s.ikeAt = ctx.now + wait;
        s.ikeTemp = t.tempRetries + 1;
        ctx.event("info", name, "IKE SA rekey: TEMPORARY_FAILURE; retrying later", {
          waitMs: Math.round(wait),
        });
        return;
      }
      return fail(`the peer answered ${type}`);
    }
    const saP = oneOf(payloads, "sa");
    const nr = oneOf(payloads, "nonce");
    const ke = oneOf(payloads, "ke");
    if (
      saP === undefined || nr === undefined || ke === undefined || saP.proposals.length !== 1 ||
      nr.data.length < 16 || nr.data.length > 256
    ) {
      return fail("the answer lacks one SA, Nr and KEr");
    }
    const sel = selectIkeV2(saP, parseV2Proposals(peer.ike_proposals, "ike"));
    if (!sel.ok) return fail(`the peer chose what we did not offer (${sel.offered})`);
    if (sel.alg.group !== t.group || ke.group !== t.group) {
      return fail(`the peer chose group ${sel.alg.group} with KE ${ke.group}, ours ${t.group}`);
    }
    const spiR = sel.offered.spi;
    if (spiR.length !== 8 || spiR.every((b) => b === 0)) return fail("the new SPIr is invalid");
    let gir: Uint8Array;
    try {
      gir = t.dh.computeShared(ke.data);
    } catch {
      return fail("KEr invalid");
    }
    const fresh = rekeyedIkeSa(ctx, sa, peer, {
      alg: sel.alg,
      gir,
      ni: t.ni,
      nr: nr.data,
      spiI: t.spi,
      spiR: spiR.slice(),
    }, "initiator");
    ctx.addSa(fresh);
    const theirs = t.peer?.ikeSa;
    const lost = t.peer !== undefined &&
      ourRekeyLoses({ ni: t.ni, nr: nr.data }, { ni: t.peer.ni, nr: t.peer.nr });
    if (lost) {
      // §2.8.2: our new IKE SA is redundant: we close it; the children stay on the peer's.
      ctx.event("info", name, "IKE SA rekey collision: ours is redundant and deleted", {
        spis: fresh.key,
        stands: theirs?.key ?? "",
      });
      ctx.removeSa(fresh, "redundant after a rekey collision", true);
      return;
    }
    let moved = ctx.store.children.moveIkeSa(sa.key, fresh.key);
    if (theirs !== undefined) moved += ctx.store.children.moveIkeSa(theirs.key, fresh.key);
    // Children waiting for a rekey wait on the new IKE SA.
    const next = this.#state(fresh, peer);
    for (const [id, q] of s.queue) next.queue.set(id, q);
    ctx.event("info", name, "IKE SA rekeyed (by us)", {
      algorithms: sel.alg.text,
      spis: fresh.key,
      replaces: sa.key,
      children: moved,
      ...(theirs === undefined ? {} : { collision: "ours stands" }),
    });
    // §1.3.2: the Delete of the old IKE SA is the last request on it.
    ctx.removeSa(sa, "rekeyed", true);
  }

  // ---- Deletes of ours ----

  #queueDelete(s: SaRekey, childId: string): void {
    if (s.deleting.has(childId)) return;
    s.deleting.add(childId);
    s.deleteQueue.push(childId);
  }

  /**
   * A child of `sa` already removed (hard lifetime): the peer gets a Delete naming our `spi`
   * (RFC 7296 §1.4.1) now, or when the window is free.
   */
  deleteGone(ctx: V2Context, sa: IkeSaV2, peer: PeerConfig, spi: Uint8Array): void {
    this.#state(sa, peer).goneQueue.push(spi);
    this.tick(ctx, sa, peer);
  }

  #sendDeletes(ctx: V2Context, sa: IkeSaV2, peer: PeerConfig, s: SaRekey): boolean {
    const ids: string[] = [];
    const gone = s.goneQueue.splice(0);
    const spis: Uint8Array[] = [...gone];
    for (const id of s.deleteQueue.splice(0)) {
      const c = ctx.store.children.get(id);
      if (c === undefined) {
        s.deleting.delete(id);
        continue;
      }
      ids.push(id);
      // RFC 7296 §1.4.1: the SPI of our inbound SA.
      spis.push(spiBytes(c.inbound.spi));
    }
    if (spis.length === 0) return false;
    const messageId = this.#send(ctx, sa, ExchangeTypeV2.INFORMATIONAL, [
      { kind: "d", protocol: ProtocolV2.ESP, spiSize: 4, spis },
    ], "delete");
    if (messageId === undefined) {
      s.deleteQueue.unshift(...ids);
      s.goneQueue.unshift(...gone);
      return false;
    }
    s.inflightDelete = { messageId, children: ids };
    ctx.event("debug", peer.name, "Delete of replaced CHILD_SAs sent", {
      children: ids.join(","),
      spis: spis.map(hex).join(","),
    });
    return true;
  }
}
