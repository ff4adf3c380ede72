/**
 * IKEv1 Security Association payload body with its nested Proposal and Transform payloads
 * (RFC 2408 §3.4–3.6, IPsec DOI layout and labeled situations RFC 2407 §4.2, §4.6.1).
 * @module
 */

import { readAttributes, writeAttributes } from "../attributes.ts";
import { readGeneric, writeGeneric } from "../generic.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import { DoiV1, PayloadTypeV1, SituationV1 } from "./registry.ts";
import type { ProposalV1, SaPayloadV1, TransformV1 } from "./types.ts";

/** Rounds up to the next multiple of four (RFC 2407 §4.6.1: levels padded to 32 bits). */
const pad4 = (n: number): number => (n + 3) & ~3;

/** RFC 2407 §4.6.1: labeled domain identifier, then secrecy and/or integrity levels. */
function readLabels(r: Reader, situation: number): Uint8Array {
  const from = r.position;
  r.u32("labeled domain identifier");
  const level = (what: string) => {
    const octets = r.u16(`${what} length`);
    r.skip(2);
    r.bytes(pad4(octets), `${what} level`);
    const bits = r.u16(`${what} category length`);
    r.skip(2);
    r.bytes(pad4(Math.ceil(bits / 8)), `${what} category bitmap`);
  };
  if ((situation & SituationV1.SECRECY) !== 0) level("secrecy");
  if ((situation & SituationV1.INTEGRITY) !== 0) level("integrity");
  return r.viewFrom(from);
}

function readTransform(r: Reader): TransformV1 {
  const number = r.u8("transform number");
  const id = r.u8("transform ID");
  r.skip(2);
  return { number, id, attributes: readAttributes(r) };
}

function readProposal(r: Reader): ProposalV1 {
  const number = r.u8("proposal number");
  const protocol = r.u8("protocol ID");
  const spiSize = r.u8("SPI size");
  const count = r.u8("number of transforms");
  const spi = r.bytes(spiSize, "SPI");
  const transforms: TransformV1[] = [];
  // RFC 2408 §3.6: each transform's Next Payload is 3, the last one's 0.
  for (let i = 0; i < count; i++) {
    const t = readGeneric(r, "Transform");
    const last = i === count - 1;
    if (t.next !== (last ? PayloadTypeV1.NONE : PayloadTypeV1.TRANSFORM)) {
      throw t.reader.error(
        `transform ${i + 1} of ${count} has next payload ${t.next}`,
        "bad-syntax",
        t.offset,
      );
    }
    transforms.push(readTransform(t.reader));
  }
  r.end("bytes after the last transform");
  return { number, protocol, spi, transforms };
}

/** Decodes an SA payload body (after the generic header). */
export function readSa(r: Reader): SaPayloadV1 {
  const doi = r.u32("DOI");
  if (doi !== DoiV1.IPSEC) {
    return { kind: "sa", doi, situation: 0, proposals: [], opaque: r.rest() };
  }
  const situation = r.u32("situation");
  const labeled = (situation & (SituationV1.SECRECY | SituationV1.INTEGRITY)) !== 0;
  const labels = labeled ? readLabels(r, situation) : undefined;
  const proposals: ProposalV1[] = [];
  // RFC 2408 §3.5: proposals chain with Next Payload 2, the last one has 0.
  let more = r.remaining > 0;
  while (more) {
    const p = readGeneric(r, "Proposal");
    if (p.next !== PayloadTypeV1.PROPOSAL && p.next !== PayloadTypeV1.NONE) {
      throw p.reader.error(`proposal has next payload ${p.next}`, "bad-syntax", p.offset);
    }
    proposals.push(readProposal(p.reader));
    more = p.next === PayloadTypeV1.PROPOSAL;
    if (more && r.remaining === 0) {
      throw r.error("proposal chain announces another proposal past the end", "truncated");
    }
  }
  r.end("bytes after the last proposal");
  return labels === undefined
    ? { kind: "sa", doi, situation, proposals }
    : { kind: "sa", doi, situation, labels, proposals };
}

/** Encodes an SA payload body. */
export function writeSa(w: Writer, sa: SaPayloadV1): void {
  w.u32(sa.doi, "SA DOI");
  if (sa.opaque !== undefined) {
    w.bytes(sa.opaque);
    return;
  }
  w.u32(sa.situation, "SA situation");
  if (sa.labels !== undefined) w.bytes(sa.labels);
  sa.proposals.forEach((p, i) => {
    const next = i === sa.proposals.length - 1 ? PayloadTypeV1.NONE : PayloadTypeV1.PROPOSAL;
    writeGeneric(w, next, 0, "Proposal", () => {
      w.u8(p.number, "proposal number").u8(p.protocol, "protocol ID");
      w.u8(p.spi.length, "SPI size").u8(p.transforms.length, "number of transforms");
      w.bytes(p.spi);
      p.transforms.forEach((t, j) => {
        const tnext = j === p.transforms.length - 1 ? PayloadTypeV1.NONE : PayloadTypeV1.TRANSFORM;
        writeGeneric(w, tnext, 0, "Transform", () => {
          w.u8(t.number, "transform number").u8(t.id, "transform ID").zeros(2);
          writeAttributes(w, t.attributes);
        });
      });
    });
  });
}
