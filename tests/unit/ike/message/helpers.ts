/** Shared helpers for the codec tests: hex, golden-vector loading, structural comparison. */

/** Hex string → bytes. */
export function unhex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex ${s}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** Bytes → lower-case hex. */
export function tohex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** One golden vector: annotated parts whose concatenation is the message or chain. */
export interface GoldenVector {
  /** What it is. */
  name: string;
  /** "message" (header included) or "chain" (payloads only). */
  kind: "message" | "chain";
  /** Type of the first payload (chains). */
  first?: number;
  /** [hex, annotation] pairs. */
  parts: [string, string][];
}

/** Loads a golden-vector file from tests/vectors/ike/: name → vector and its bytes. */
export function loadGolden(file: string): Map<string, { vector: GoldenVector; bytes: Uint8Array }> {
  const url = new URL(`../../../vectors/ike/${file}`, import.meta.url);
  const doc = JSON.parse(Deno.readTextFileSync(url)) as { vectors: GoldenVector[] };
  const out = new Map<string, { vector: GoldenVector; bytes: Uint8Array }>();
  for (const v of doc.vectors) {
    out.set(v.name, { vector: v, bytes: unhex(v.parts.map((p) => p[0]).join("")) });
  }
  return out;
}

/** Fields that describe where a decoded payload sat, not what it says. */
const VIEW_FIELDS = new Set(["raw", "body", "offset", "type", "critical"]);

/** A JSON-like projection for deepEqual: byte arrays become hex. */
export function plain(x: unknown): unknown {
  if (x instanceof Uint8Array) return tohex(x);
  if (Array.isArray(x)) return x.map((e) => plain(e));
  if (x !== null && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = plain(v);
    return out;
  }
  return x;
}

/** {@link plain} of a payload without its view fields (raw, body, offset, type, critical). */
export function content(payload: object): unknown {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) if (!VIEW_FIELDS.has(k)) out[k] = plain(v);
  return out;
}
