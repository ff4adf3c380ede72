import assert from "node:assert/strict";
import {
  MIN_SPI,
  SpiAllocator,
  spiBytes,
  SpiExhaustedError,
  spiHex,
  spiNumber,
} from "../../../../src/ike/child/spi.ts";

/** A random source replaying fixed 4-byte values, then repeating the last. */
function scripted(values: number[]): (n: number) => Uint8Array {
  let i = 0;
  return (n) => {
    const v = values[Math.min(i++, values.length - 1)]!;
    const out = new Uint8Array(n);
    new DataView(out.buffer).setUint32(0, v >>> 0);
    return out;
  };
}

Deno.test("SPIs below 256 and held SPIs are never handed out", () => {
  const a = new SpiAllocator(scripted([0, 1, 255, 0x1234, 0x1234, 0xfffffffe]));
  assert.equal(a.allocate(), 0x1234);
  assert.equal(a.allocate(), 0xfffffffe);
  assert.ok(a.holds(0x1234));
  assert.equal(a.size, 2);
});

Deno.test("a released SPI can be drawn again; a stuck source gives a typed error", () => {
  const a = new SpiAllocator(scripted([0x5000]));
  assert.equal(a.allocate(), 0x5000);
  assert.throws(() => a.allocate(), SpiExhaustedError);
  a.release(0x5000);
  assert.equal(a.allocate(), 0x5000);
});

Deno.test("random allocation: many distinct SPIs, all >= 256", () => {
  const a = new SpiAllocator((n) => crypto.getRandomValues(new Uint8Array(n)));
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const s = a.allocate();
    assert.ok(s >= MIN_SPI && s <= 0xffffffff);
    assert.ok(!seen.has(s));
    seen.add(s);
  }
});

Deno.test("SPI bytes, numbers and text", () => {
  assert.deepEqual([...spiBytes(0xc0ffee01)], [0xc0, 0xff, 0xee, 0x01]);
  assert.equal(spiNumber(Uint8Array.of(0xc0, 0xff, 0xee, 0x01)), 0xc0ffee01);
  assert.equal(spiNumber(Uint8Array.of(1, 2, 3)), undefined);
  assert.equal(spiHex(0x1ff), "000001ff");
});
