/**
 * IP addresses as text and bytes: strict parsing (RFC 791 dotted quads, RFC 4291 §2.2 text
 * forms), canonical formatting (RFC 5952 §4), prefixes as ranges. Pure; invalid input gives
 * undefined, never an exception.
 * @module
 */

/** An address range, both ends inclusive, as network-order bytes of equal length (4 or 16). */
export interface AddressRange {
  /** First address. */
  readonly start: Uint8Array;
  /** Last address. */
  readonly end: Uint8Array;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined; // no leading zeros (octal ambiguity)
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  for (const g of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

function parseIpv6(text: string): Uint8Array | undefined {
  let head = text;
  const tail4: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.includes(".", lastColon)) {
    // Embedded IPv4 in the last 32 bits (RFC 4291 §2.2 form 3).
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail4.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    // Drop the colon before the IPv4 part, but keep a "::" that ends right there.
    head = text.endsWith("::", lastColon + 1)
      ? text.slice(0, lastColon + 1)
      : text.slice(0, lastColon);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const left = parseGroups(halves[0]!);
  const right = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (left === undefined || right === undefined) return undefined;
  const fixed = left.length + right.length + tail4.length;
  let groups: number[];
  if (halves.length === 2) {
    if (fixed > 7) return undefined; // "::" stands for at least one group
    groups = [...left, ...new Array<number>(8 - fixed).fill(0), ...right, ...tail4];
  } else {
    if (fixed !== 8) return undefined;
    groups = [...left, ...tail4];
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Parses an IPv4 or IPv6 address; undefined when the text is not one. */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.includes(":")) return parseIpv6(text);
  return parseIpv4(text);
}

/** Formats 4 or 16 bytes as text (IPv6 canonical per RFC 5952 §4). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) {
    throw new RangeError(`an address has 4 or 16 bytes, not ${bytes.length}`);
  }
  const g = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  // RFC 5952 §4.2: compress the longest run (first if tied) of two or more zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/**
 * Parses "ADDR", "ADDR/LEN" (a prefix) or "A-B" (a range) into an inclusive range; undefined
 * on bad input (including a range whose ends differ in family or are reversed).
 */
export function parseRange(text: string): AddressRange | undefined {
  const dash = text.indexOf("-");
  if (dash > 0) {
    const start = parseIp(text.slice(0, dash).trim());
    const end = parseIp(text.slice(dash + 1).trim());
    if (start === undefined || end === undefined || start.length !== end.length) return undefined;
    return compareBytes(start, end) <= 0 ? { start, end } : undefined;
  }
  const slash = text.indexOf("/");
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (addr === undefined) return undefined;
  const bits = addr.length * 8;
  const lenText = slash < 0 ? String(bits) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lenText) || Number(lenText) > bits) return undefined;
  const len = Number(lenText);
  const start = addr.slice();
  const end = addr.slice();
  for (let bit = len; bit < bits; bit++) {
    const i = bit >> 3;
    const m = 0x80 >> (bit & 7);
    start[i] = start[i]! & ~m;
    end[i] = end[i]! | m;
  }
  return { start, end };
}

/** Compares two equal-length addresses: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
