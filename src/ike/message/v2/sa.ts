/**
 * IKEv2 Security Association payload body: proposal and transform substructures chained with
 * "Last Substruc" values 2/0 and 3/0 (RFC 7296 §3.3, §3.3.1, §3.3.2) and transform attributes
 * (§3.3.5).
 * @module
 */

import { readAttributes, writeAttributes } from "../attributes.ts";
import { readGeneric, writeGeneric } from "../generic.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import type { ProposalV2, SaPayloadV2, TransformV2 } from "./types.ts";

const MORE_PROPOSALS = 2, MORE_TRANSFORMS = 3, LAST = 0;

function readProposal(r: Reader): ProposalV2 {
  const number = r.u8("proposal number");
  const protocol = r.u8("protocol ID");
  const spiSize = r.u8("SPI size");
  const count = r.u8("number of transforms");
  const spi = r.bytes(spiSize, "SPI");
  const transforms: TransformV2[] = [];
  for (let i = 0; i < count; i++) {
    const t = readGeneric(r, "Transform");
    if (t.next !== (i === count - 1 ? LAST : MORE_TRANSFORMS)) {
      throw t.reader.error(
        `transform ${i + 1} of ${count} has last-substructure ${t.next}`,
        "bad-syntax",
        t.offset,
      );
    }
    const type = t.reader.u8("transform type");
    t.reader.skip(1);
    const id = t.reader.u16("transform ID");
    transforms.push({ type, id, attributes: readAttributes(t.reader) });
  }
  r.end("bytes after the last transform");
  return { number, protocol, spi, transforms };
}

/** Decodes an SA payload body. */
export function readSa(r: Reader): SaPayloadV2 {
  const proposals: ProposalV2[] = [];
  let more = r.remaining > 0;
  while (more) {
    const p = readGeneric(r, "Proposal");
    if (p.next !== MORE_PROPOSALS && p.next !== LAST) {
      throw p.reader.error(`proposal has last-substructure ${p.next}`, "bad-syntax", p.offset);
    }
    proposals.push(readProposal(p.reader));
    more = p.next === MORE_PROPOSALS;
    if (more && r.remaining === 0) {
      throw r.error("proposal chain announces another proposal past the end", "truncated");
    }
  }
  r.end("bytes after the last proposal");
  return { kind: "sa", proposals };
}

/** Encodes an SA payload body. */
export function writeSa(w: Writer, sa: SaPayloadV2): void {
  sa.proposals.forEach((p, i) => {
    const next = i === sa.proposals.length - 1 ? LAST : MORE_PROPOSALS;
    writeGeneric(w, next, 0, "Proposal", () => {
      w.u8(p.number, "proposal number").u8(p.protocol, "protocol ID");
      w.u8(p.spi.length, "SPI size").u8(p.transforms.length, "number of transforms");
      w.bytes(p.spi);
      p.transforms.forEach((t, j) => {
        const tnext = j === p.transforms.length - 1 ? LAST : MORE_TRANSFORMS;
        writeGeneric(w, tnext, 0, "Transform", () => {
          w.u8(t.type, "transform type").zeros(1).u16(t.id, "transform ID");
          writeAttributes(w, t.attributes);
        });
      });
    });
  });
}
