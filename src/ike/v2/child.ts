/**
 * Negotiating one CHILD_SA as responder, for IKE_AUTH (first child, no KE, RFC 7296 §1.2) and
 * CREATE_CHILD_SA (new child or rekey, optional KE for PFS, §1.3.1, §1.3.3): ESP proposal
 * selection, traffic selector narrowing (§2.9, TS_UNACCEPTABLE), our SPI from the shared
 * allocator, KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) split per §2.17, and the EspSaSpec pair
 * built by the shared child builder (src/ike/child/spec.ts). Nothing is installed until the
 * caller runs `install` after the answer is sent.
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import { deriveChildKeys } from "../../crypto/kdf/ikev2.ts";
import { concat } from "../../crypto/kdf/primitives.ts";
import { AEAD_KEY_LENGTH, CIPHER_KEY_LENGTH, MAC_PARAMS } from "../../crypto/params.ts";
import type { DhGroupId } from "../../crypto/types.ts";
import type { TrafficSelector } from "../../esp/sa_spec.ts";
import { groupName } from "../algorithms.ts";
import type { ChildSa } from "../child/child_sa.ts";
import { buildChild, jitterSoft } from "../child/spec.ts";
import { spiBytes, SpiExhaustedError, spiHex, spiNumber } from "../child/spi.ts";
import { configSelector, formatSelector, isTsError } from "../child/ts.ts";
import { NotifyTypeV2 } from "../message/v2/registry.ts";
import type { DecodedPayloadV2, PayloadV2 } from "../message/v2/types.ts";
import { notify, oneOf, type V2Context } from "./context.ts";
import { type EspAlgorithmsV2, parseV2Proposals, selectEspV2 } from "./proposal.ts";
import type { IkeSaV2 } from "./sa.ts";
import { narrowAll, toTsV2 } from "./ts_payload.ts";

/** How the child is being made. */
export interface ChildRequest {
  /** The IKE SA. */
  readonly sa: IkeSaV2;
  /** The authenticated peer. */
  readonly peer: PeerConfig;
  /** The request's payloads (SA, TSi, TSr, KE). */
  readonly payloads: readonly DecodedPayloadV2[];
  /** Ni of this exchange (IKE_SA_INIT's for the first child). */
  readonly ni: Uint8Array;
  /** Nr of this exchange. */
  readonly nr: Uint8Array;
  /** "none" in IKE_AUTH; "as-configured" in CREATE_CHILD_SA (PFS by the ESP proposal). */
  readonly pfs: "none" | "as-configured";
  /** The child being rekeyed, if any. */
  readonly rekeys?: ChildSa;
}

/** A child ready to install, or the Notify refusing it. */
export type ChildOutcome =
  | {
    readonly ok: true;
    /** SA, [KEr], TSi, TSr (the caller adds Nr in CREATE_CHILD_SA). */
    readonly sa: PayloadV2;
    /** Our KE when PFS was used. */
    readonly ke: PayloadV2 | undefined;
    /** TSi and TSr. */
    readonly ts: readonly PayloadV2[];
    /** Installs the pair (after the answer is sent). */
    readonly install: () => string;
  }
  | {
    readonly ok: false;
    /** The Notify to answer with. */
    readonly notify: PayloadV2;
  };

/** The configured selectors (local_ts / remote_ts texts) that parse. */
export function configured(texts: readonly string[]): TrafficSelector[] {
  const out: TrafficSelector[] = [];
  for (const t of texts) {
    const s = configSelector(t);
    if (!isTsError(s)) out.push(s);
  }
  return out;
}

/** Negotiates one CHILD_SA; see the module comment. */
export function negotiateChild(ctx: V2Context, r: ChildRequest): ChildOutcome {
  const { sa, peer } = r;
  const name = peer.name;
  const saP = oneOf(r.payloads, "sa");
  const tsiP = oneOf(r.payloads, "tsi");
  const tsrP = oneOf(r.payloads, "tsr");
  if (saP === undefined || tsiP === undefined || tsrP === undefined) {
    ctx.event("warn", name, "CHILD_SA request without one SA, TSi and TSr; INVALID_SYNTAX");
    return { ok: false, notify: notify(NotifyTypeV2.INVALID_SYNTAX) };
  }
  const sel = selectEspV2(saP, parseV2Proposals(peer.esp_proposals, "esp"), r.pfs);
  if (!sel.ok) {
    ctx.event("warn", name, "NO_PROPOSAL_CHOSEN: no ESP proposal matches", {
      offered: sel.offered,
      configured: sel.configured,
    });
    ctx.failure(name, `ESP proposal mismatch (offered ${sel.offered})`);
    return { ok: false, notify: notify(NotifyTypeV2.NO_PROPOSAL_CHOSEN) };
  }
  const peerSpi = spiNumber(sel.offered.spi);
  if (peerSpi === undefined || peerSpi === 0) {
    ctx.event(
      "warn",
      name,
      `ESP proposal with a ${sel.offered.spi.length}-octet SPI; INVALID_SYNTAX`,
    );
    return { ok: false, notify: notify(NotifyTypeV2.INVALID_SYNTAX) };
  }
  // RFC 7296 §2.9: TSi is the initiator's (the peer's) side, TSr ours.
  const remoteTs = narrowAll(tsiP.selectors, configured(peer.remote_ts));
  const localTs = narrowAll(tsrP.selectors, configured(peer.local_ts));
  if (remoteTs.length === 0 || localTs.length === 0) {
    ctx.event(
      "warn",
      name,
      "TS_UNACCEPTABLE: the proposed selectors do not overlap local_ts/remote_ts",
      {
        localTs: peer.local_ts.join(","),
        remoteTs: peer.remote_ts.join(","),
      },
    );
    ctx.failure(name, "traffic selectors unacceptable");
    return { ok: false, notify: notify(NotifyTypeV2.TS_UNACCEPTABLE) };
  }
  let gir: Uint8Array | undefined;
  let ke: PayloadV2 | undefined;
  if (sel.alg.group !== 0) {
    const keP = oneOf(r.payloads, "ke");
    if (keP === undefined || keP.group !== sel.alg.group) {
      // RFC 7296 §1.3: INVALID_KE_PAYLOAD names the group we want.
      ctx.event("info", name, `INVALID_KE_PAYLOAD: PFS needs ${groupName(sel.alg.group)}`, {
        offered: keP?.group ?? 0,
      });
      const g = sel.alg.group;
      return {
        ok: false,
        notify: notify(NotifyTypeV2.INVALID_KE_PAYLOAD, Uint8Array.of(g >> 8, g & 0xff)),
      };
    }
    const group = ctx.crypto.dh(sel.alg.group as DhGroupId);
    const dh = group.generate();
    try {
      if (keP.data.length !== group.publicLength) throw new Error("length");
      gir = dh.computeShared(keP.data);
    } catch {
      ctx.event("warn", name, "the peer's PFS KE value is invalid; INVALID_SYNTAX");
      return { ok: false, notify: notify(NotifyTypeV2.INVALID_SYNTAX) };
    }
    ke = { kind: "ke", group: sel.alg.group, data: dh.publicValue };
  }
  let inboundSpi: number;
  try {
    inboundSpi = ctx.store.spis.allocate();
  } catch (e) {
    if (!(e instanceof SpiExhaustedError)) throw e;
    ctx.event("error", name, e.message);
    return { ok: false, notify: notify(NotifyTypeV2.TEMPORARY_FAILURE) };
  }
  const install = childInstaller(ctx, {
    sa,
    peer,
    alg: sel.alg,
    inboundSpi,
    outboundSpi: peerSpi,
    ni: r.ni,
    nr: r.nr,
    gir,
    localTs,
    remoteTs,
    weInitiated: false,
    ...(r.rekeys === undefined ? {} : { rekeys: r.rekeys }),
  });
  return {
    ok: true,
    sa: { kind: "sa", proposals: [{ ...sel.answer, spi: spiBytes(inboundSpi) }] },
    ke,
    ts: [
      { kind: "tsi", selectors: remoteTs.map(toTsV2) },
      { kind: "tsr", selectors: localTs.map(toTsV2) },
    ],
    install,
  };
}

/** A negotiated child of either exchange side, ready to derive and install. */
export interface ChildPairInput {
  /** The IKE SA (SK_d, PRF, endpoints, NAT-T). */
  readonly sa: IkeSaV2;
  /** The peer. */
  readonly peer: PeerConfig;
  /** The agreed ESP algorithms. */
  readonly alg: EspAlgorithmsV2;
  /** Our SPI. */
  readonly inboundSpi: number;
  /** The peer's SPI. */
  readonly outboundSpi: number;
  /** Ni and Nr of the exchange. */
  readonly ni: Uint8Array;
  /** Nr. */
  readonly nr: Uint8Array;
  /** The PFS shared secret, if any. */
  readonly gir: Uint8Array | undefined;
  /** Our selectors. */
  readonly localTs: readonly TrafficSelector[];
  /** The peer's selectors. */
  readonly remoteTs: readonly TrafficSelector[];
  /** We initiated this exchange (IKE_AUTH or CREATE_CHILD_SA). */
  readonly weInitiated: boolean;
  /** The child being rekeyed, if any. */
  readonly rekeys?: ChildSa;
}

/**
 * KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) split per RFC 7296 §2.17 (the exchange initiator's
 * outbound keys first) into the pair built by the shared builder; returns the installer.
 */
export function childInstaller(ctx: V2Context, c: ChildPairInput): () => string {
  const { sa, peer, alg } = c;
  const t = alg.transform;
  const encLen = t.kind === "aead" ? AEAD_KEY_LENGTH[t.alg] + 4 : CIPHER_KEY_LENGTH[t.cipher];
  const integLen = t.kind === "aead" ? 0 : MAC_PARAMS[t.mac].keyLength;
  const keys = deriveChildKeys(
    ctx.crypto,
    sa.alg.prf,
    sa.secrets.skD,
    c.ni,
    c.nr,
    encLen,
    integLen,
    c.gir,
  );
  // RFC 7296 §2.17: initiator→responder keys first.
  const toResponder = concat(keys.encI, keys.integI);
  const toInitiator = concat(keys.encR, keys.integR);
  const built = buildChild({
    peer,
    gateway: ctx.policy.config.gateway,
    ikeSa: sa.key,
    local: sa.local,
    remote: sa.remote,
    encap: sa.natt || peer.encap,
    transform: t,
    transformName: alg.transformName,
    pfsGroup: alg.group,
    esn: alg.esn,
    seconds: peer.esp_lifetime,
    bytes: peer.esp_lifetime_bytes,
    inboundSpi: c.inboundSpi,
    outboundSpi: c.outboundSpi,
    inboundKeys: c.weInitiated ? toInitiator : toResponder,
    outboundKeys: c.weInitiated ? toResponder : toInitiator,
    localTs: c.localTs,
    remoteTs: c.remoteTs,
    now: ctx.now,
  });
  // RFC 7296 §2.8.1: the soft lifetime jittered, so both sides rarely rekey at once; a byte
  // lifetime is rekeyed at 80-90 % of it (the data path raises the soft event on bytes too).
  const r = ctx.crypto.randomBytes(2);
  const timed = jitterSoft(built.inbound.lifetime, peer.rekey_margin, r[0]!);
  const lifetime = timed.hardBytes > 0 && timed.softBytes === 0
    ? { ...timed, softBytes: Math.floor(timed.hardBytes * (0.8 + (0.1 * r[1]!) / 256)) }
    : timed;
  const child = {
    ...built,
    inbound: { ...built.inbound, lifetime },
    outbound: { ...built.outbound, lifetime },
  };
  return () => {
    const done = ctx.store.children.install(child);
    for (const a of done.actions) ctx.emit(a);
    ctx.event(
      "info",
      peer.name,
      c.rekeys === undefined ? "CHILD_SA established" : "CHILD_SA rekeyed",
      {
        childId: done.child.childId,
        spiIn: spiHex(c.inboundSpi),
        spiOut: spiHex(c.outboundSpi),
        transform: alg.text,
        localTs: c.localTs.map(formatSelector).join(","),
        remoteTs: c.remoteTs.map(formatSelector).join(","),
        ...(c.rekeys === undefined ? {} : { replaces: c.rekeys.childId }),
        ...(c.weInitiated ? { initiated: true } : {}),
      },
    );
    return done.child.childId;
  };
}
