/**
 * IKEv2 Traffic Selector payload body (RFC 7296 §3.13) and its selectors (§3.13.1): address
 * ranges for IPv4 (16 octets) and IPv6 (40 octets) with protocol and port range; selectors of
 * other types are kept whole.
 * @module
 */

import { EncodeError } from "../errors.ts";
import type { Reader } from "../reader.ts";
import type { Writer } from "../writer.ts";
import { TsTypeV2 } from "./registry.ts";
import type { TrafficSelectorV2, TsPayloadV2 } from "./types.ts";

/** Address length for an address-range TS type, or undefined for other types. */
function addressLength(tsType: number): number | undefined {
  if (tsType === TsTypeV2.IPV4_ADDR_RANGE) return 4;
  if (tsType === TsTypeV2.IPV6_ADDR_RANGE) return 16;
  return undefined;
}

function readSelector(r: Reader): TrafficSelectorV2 {
  const at = r.offset;
  const tsType = r.u8("TS type");
  const octet2 = r.u8("IP protocol ID");
  const length = r.u16("selector length");
  if (length < 4) throw r.error(`selector length ${length} below 4`, "bad-length", at + 2);
  const s = r.sub(length - 4, r.payload, "traffic selector");
  const alen = addressLength(tsType);
  if (alen === undefined) return { tsType, octet2, data: s.rest() };
  if (length !== 8 + 2 * alen) {
    throw r.error(`selector length ${length} for TS type ${tsType}`, "bad-length", at + 2);
  }
  const startPort = s.u16("start port");
  const endPort = s.u16("end port");
  const start = s.bytes(alen, "starting address");
  const end = s.bytes(alen, "ending address");
  return { tsType, protocol: octet2, startPort, endPort, start, end };
}

/** Decodes a TSi/TSr body: the count must match the selectors present. */
export function readTs(r: Reader, kind: "tsi" | "tsr"): TsPayloadV2 {
  const count = r.u8("number of TSs");
  r.skip(3);
  const selectors: TrafficSelectorV2[] = [];
  for (let i = 0; i < count; i++) selectors.push(readSelector(r));
  r.end("bytes after the traffic selectors");
  return { kind, selectors };
}

/** Encodes a TSi/TSr body. */
export function writeTs(w: Writer, p: TsPayloadV2): void {
  w.u8(p.selectors.length, "number of TSs").zeros(3);
  for (const ts of p.selectors) {
    if ("start" in ts) {
      const alen = addressLength(ts.tsType);
      if (alen === undefined || ts.start.length !== alen || ts.end.length !== alen) {
        throw new EncodeError("traffic selector", `addresses do not fit TS type ${ts.tsType}`);
      }
      w.u8(ts.tsType, "TS type").u8(ts.protocol, "TS protocol").u16(8 + 2 * alen);
      w.u16(ts.startPort, "start port").u16(ts.endPort, "end port");
      w.bytes(ts.start).bytes(ts.end);
    } else {
      if (addressLength(ts.tsType) !== undefined) {
        throw new EncodeError("traffic selector", `TS type ${ts.tsType} needs addresses`);
      }
      w.u8(ts.tsType, "TS type").u8(ts.octet2, "TS octet 2");
      w.u16(4 + ts.data.length, "selector length").bytes(ts.data);
    }
  }
}
