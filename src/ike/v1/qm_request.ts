/**
 * Quick Mode message 1 after HASH(1) (RFC 2409 §5.5: SA, Ni [, KE] [, IDci, IDcr]) checked for
 * shape: exactly one SA payload of the IPsec DOI with the IDENTITY_ONLY situation (RFC 2407
 * §4.2, §4.6.1), one nonce of 8..256 octets (RFC 2409 §5), at most one KE, no or two IDs.
 * Pure; a problem is a {@link QmRefusal} naming the Notify to answer with.
 * @module
 */

import type { LogFields } from "../../log.ts";
import { DoiV1, NotifyTypeV1, SituationV1 } from "../message/v1/registry.ts";
import type { DecodedPayloadV1, IdPayloadV1, SaPayloadV1 } from "../message/v1/types.ts";

/** Why a Quick Mode request was refused: the Notify to send (if any) and the log line. */
export class QmRefusal {
  /** `notify` is a NotifyTypeV1 value, or undefined to drop silently. */
  constructor(
    readonly notify: number | undefined,
    readonly message: string,
    readonly fields: LogFields = {},
  ) {}
}

/** The parts of message 1 Quick Mode uses. */
export interface QmRequest {
  /** The SA payload. */
  readonly sa: SaPayloadV1;
  /** Ni_b (copied). */
  readonly ni: Uint8Array;
  /** The KE value, when PFS is asked for. */
  readonly ke?: Uint8Array;
  /** IDci (the initiator's client). */
  readonly idci?: IdPayloadV1;
  /** IDcr (our client). */
  readonly idcr?: IdPayloadV1;
}

const NONCE_MIN = 8;
const NONCE_MAX = 256;

/** Checks and picks apart the payloads after HASH(1). */
export function readQuickModeRequest(body: readonly DecodedPayloadV1[]): QmRequest | QmRefusal {
  const N = NotifyTypeV1;
  const sas = body.flatMap((p) => p.kind === "sa" ? [p] : []);
  const nonces = body.flatMap((p) => p.kind === "nonce" ? [p] : []);
  const kes = body.flatMap((p) => p.kind === "ke" ? [p] : []);
  const ids = body.flatMap((p) => p.kind === "id" ? [p] : []);
  const sa = sas[0];
  if (sa === undefined || sas.length !== 1) {
    return new QmRefusal(
      sas.length === 0 ? N.PAYLOAD_MALFORMED : N.NO_PROPOSAL_CHOSEN,
      `Quick Mode with ${sas.length} SA payloads (exactly one is supported)`,
    );
  }
  const nonce = nonces[0];
  if (nonce === undefined || nonces.length !== 1 || kes.length > 1 || ids.length % 2 !== 0) {
    return new QmRefusal(
      N.PAYLOAD_MALFORMED,
      "Quick Mode message 1 lacks Ni or has extra payloads",
      {
        nonces: nonces.length,
        ke: kes.length,
        ids: ids.length,
      },
    );
  }
  if (ids.length > 2) return new QmRefusal(N.PAYLOAD_MALFORMED, `${ids.length} ID payloads`);
  if (nonce.data.length < NONCE_MIN || nonce.data.length > NONCE_MAX) {
    return new QmRefusal(N.PAYLOAD_MALFORMED, `Ni of ${nonce.data.length} octets (8..256 allowed)`);
  }
  if (sa.doi !== DoiV1.IPSEC) return new QmRefusal(N.DOI_NOT_SUPPORTED, `SA DOI ${sa.doi}`);
  if (sa.situation !== SituationV1.IDENTITY_ONLY) {
    return new QmRefusal(N.SITUATION_NOT_SUPPORTED, `SA situation ${sa.situation}`);
  }
  const [idci, idcr] = ids;
  return {
    sa,
    ni: nonce.data.slice(),
    ...(kes[0] === undefined ? {} : { ke: kes[0].data.slice() }),
    ...(idci === undefined ? {} : { idci }),
    ...(idcr === undefined ? {} : { idcr }),
  };
}
