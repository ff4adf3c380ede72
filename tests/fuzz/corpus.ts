/**
 * The fuzz corpus: every valid IKEv1/IKEv2 message and payload chain kept under
 * tests/vectors/ike (hand-assembled golden bytes and the strongSwan capture), each with the
 * offsets of its 16-bit length fields found by decoding it.
 */

import { decodeV1Message, decodeV1Payloads } from "../../src/ike/message/v1/mod.ts";
import { decodeV2Message, decodeV2Payloads } from "../../src/ike/message/v2/mod.ts";
import type { Seed } from "./mutate.ts";

const VECTORS = new URL("../vectors/ike/", import.meta.url);

function unhex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;

/** Length fields of SA proposals, transforms and TLV attributes in an SA body at `at`. */
function saFields(b: Uint8Array, at: number, end: number, out: number[]): void {
  let p = at;
  while (p + 8 <= end) {
    out.push(p + 2);
    const plen = u16(b, p + 2);
    const pend = Math.min(p + plen, end);
    let t = p + 8 + b[p + 6]!;
    while (t + 8 <= pend) {
      out.push(t + 2);
      const tend = Math.min(t + u16(b, t + 2), pend);
      let a = t + 8;
      while (a + 4 <= tend) {
        if ((b[a]! & 0x80) === 0) {
          out.push(a + 2);
          a += 4 + u16(b, a + 2);
        } else a += 4;
      }
      if (u16(b, t + 2) < 8) break;
      t = tend;
    }
    if (plen < 8) break;
    p = pend;
  }
}

interface View {
  readonly kind: string;
  readonly offset: number;
  readonly body: Uint8Array;
  readonly raw: Uint8Array;
}

function fieldsOf(payloads: readonly View[], base: number, b: Uint8Array, v1: boolean): number[] {
  const out: number[] = [];
  for (const p of payloads) {
    const at = p.offset - base;
    out.push(at + 2);
    const end = at + p.raw.length;
    if (p.kind === "sa") saFields(b, at + 4 + (v1 ? 8 : 0), end, out);
    if (p.kind === "tsi" || p.kind === "tsr") {
      for (let s = at + 8; s + 4 <= end; s += Math.max(u16(b, s + 2), 4)) out.push(s + 2);
    }
    if (p.kind === "attr" || p.kind === "cp") {
      for (let a = at + 8; a + 4 <= end;) {
        if (p.kind === "attr" && (b[a]! & 0x80) !== 0) a += 4;
        else {
          out.push(a + 2);
          a += 4 + u16(b, a + 2);
        }
      }
    }
  }
  return out;
}

function seedOf(name: string, bytes: Uint8Array, first: number | undefined): Seed {
  if (first === undefined) {
    const major = bytes[17]! >>> 4;
    const r = major === 1 ? decodeV1Message(bytes) : decodeV2Message(bytes);
    if (!r.ok) throw new Error(`corpus entry ${name} does not decode: ${r.error.message}`);
    const payloads = "payloads" in r.value ? r.value.payloads : [];
    const fields = [24, 26, ...fieldsOf(payloads, 0, bytes, major === 1)];
    return { name, kind: "message", first: 0, bytes, lengthFields: fields };
  }
  const v1 = first < 33 || first > 53;
  const r = v1 ? decodeV1Payloads(first, bytes, 28) : decodeV2Payloads(first, bytes, 28);
  if (!r.ok) throw new Error(`corpus entry ${name} does not decode: ${r.error.message}`);
  return {
    name,
    kind: "chain",
    first,
    bytes,
    lengthFields: fieldsOf(r.value.payloads, 28, bytes, v1),
  };
}

/** Loads every corpus entry, split by IKE version. */
export function loadCorpus(): { v1: Seed[]; v2: Seed[] } {
  const v1: Seed[] = [], v2: Seed[] = [];
  for (const [file, list] of [["v1_golden.json", v1], ["v2_golden.json", v2]] as const) {
    const doc = JSON.parse(Deno.readTextFileSync(new URL(file, VECTORS))) as {
      vectors: { name: string; kind: string; first?: number; parts: [string, string][] }[];
    };
    for (const v of doc.vectors) {
      const bytes = unhex(v.parts.map((p) => p[0]).join(""));
      list.push(seedOf(v.name, bytes, v.kind === "chain" ? v.first : undefined));
    }
  }
  const cap = JSON.parse(Deno.readTextFileSync(new URL("strongswan_capture.json", VECTORS))) as {
    messages: { name: string; hex: string }[];
  };
  for (const m of cap.messages) {
    (m.name.startsWith("IKEv1") ? v1 : v2).push(seedOf(m.name, unhex(m.hex), undefined));
  }
  return { v1, v2 };
}
