/**
 * Views for native calls that work on part of a packet buffer. An FFI `buffer` argument passes
 * only the start of a typed array, so `buf[offset…]` needs a view starting there; making one
 * per packet (`subarray`) is an allocation per AEAD/CBC/MAC call. The data path reuses a few
 * long-lived buffers at a few offsets, so views are kept per underlying ArrayBuffer and byte
 * offset and handed out again: after warm-up the packet path allocates nothing here.
 * Callers check the range against `buf` first (params.ts `rangeOk`); the view runs to the end
 * of the ArrayBuffer and native code is told the length separately. Sizes passed as size_t
 * (bigint) are cached the same way.
 * @module
 */

/** Views kept per ArrayBuffer, at most; a buffer used at more offsets starts a new set. */
const MAX_VIEWS_PER_BUFFER = 32;

const views = new WeakMap<ArrayBufferLike, Map<number, Uint8Array>>();

/** A view of `buf`'s underlying memory starting at `buf[offset]` (reused across calls). */
export function viewFrom(buf: Uint8Array, offset: number): Uint8Array {
  if (offset === 0) return buf;
  const at = buf.byteOffset + offset;
  let m = views.get(buf.buffer);
  if (m === undefined) {
    m = new Map();
    views.set(buf.buffer, m);
  }
  let v = m.get(at);
  if (v === undefined) {
    if (m.size >= MAX_VIEWS_PER_BUFFER) m.clear(); // bounded: a caller with ever-new offsets
    v = new Uint8Array(buf.buffer, at);
    m.set(at, v);
  }
  return v;
}

/** Lengths up to this many bytes get a cached size_t argument (jumbo frames included). */
const MAX_CACHED_SIZE = 9216;
const sizes: (bigint | undefined)[] = [];

/** `n` as a size_t FFI argument; cached up to {@link MAX_CACHED_SIZE}, so no BigInt per packet. */
export function sizeArg(n: number): bigint {
  if (n > MAX_CACHED_SIZE) return BigInt(n);
  return sizes[n] ??= BigInt(n);
}
