/**
 * glibc's `mallinfo2` (glibc ≥ 2.33) for measurements: the bytes malloc has handed out and not
 * taken back, where libcrypto's contexts and V8's ArrayBuffer contents live. Benchmarks only;
 * opened on first use.
 * @module
 */

const SYMBOLS = {
  mallinfo2: { parameters: [], result: { struct: Array<"usize">(10).fill("usize") } },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** Bytes in use by malloc (`mallinfo2().uordblks`), or undefined without glibc's mallinfo2. */
export function mallocInUse(): number | undefined {
  try {
    lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    return undefined;
  }
  const r = lib.symbols.mallinfo2() as Uint8Array;
  // struct mallinfo2: arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, …
  return Number(new BigUint64Array(r.buffer, r.byteOffset, 10)[7]);
}
