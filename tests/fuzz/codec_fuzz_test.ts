/**
 * Seeded mutation test of the IKE message decoders. Every corpus entry (tests/vectors/ike) is
 * mutated (bit flips, byte sets, truncations, length-field edits, splices, insertions,
 * deletions); each mutant goes through the header, message and chain decoders, which must
 * return a value or a DecodeError and never throw. Every accepted mutant must be stable:
 * decode → encode → decode gives the same structure, and encoding that again the same bytes.
 *
 * BRANCHGATE_FUZZ_N sets the number of mutants per IKE version (default 75,000, so 150,000 in
 * all); BRANCHGATE_FUZZ_SEED replays a run. A failure names the seed, the mutant index, the
 * corpus entry and the mutant's hex.
 */

import assert from "node:assert/strict";
import { DecodeError } from "../../src/ike/message/errors.ts";
import { decodeHeader } from "../../src/ike/message/header.ts";
import {
  decodeV1Message,
  decodeV1Payloads,
  encodeV1EncryptedMessage,
  encodeV1Message,
  encodeV1Payloads,
  type MessageV1,
} from "../../src/ike/message/v1/mod.ts";
import {
  decodeV2Message,
  decodeV2Payloads,
  encodeV2Message,
  encodeV2Payloads,
} from "../../src/ike/message/v2/mod.ts";
import { loadCorpus } from "./corpus.ts";
import { mutate, Rng, type Seed } from "./mutate.ts";

/** A non-negative integer from the environment, or `fallback` when unset. */
function envInt(name: string, fallback: number): number {
  const text = Deno.env.get(name);
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${text} is not a count`);
  return n;
}

const N = envInt("BRANCHGATE_FUZZ_N", 75_000);
const SEED = envInt("BRANCHGATE_FUZZ_SEED", 0x1c0dec);
const CORPUS = loadCorpus();

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Structural equality ignoring the raw/body views (reserved bits may differ after encoding). */
function same(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) {
      return false;
    }
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => same(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).filter((k) => k !== "raw" && k !== "body" && k !== "bytes");
    const kb = Object.keys(b).filter((k) => k !== "raw" && k !== "body" && k !== "bytes");
    if (ka.length !== kb.length) return false;
    const ra = a as Record<string, unknown>, rb = b as Record<string, unknown>;
    return ka.every((k) => k in rb && same(ra[k], rb[k]));
  }
  return a === b;
}

/** Unwraps a decode result: the value, or undefined for a DecodeError; anything else throws. */
function accept<T>(r: { ok: true; value: T } | { ok: false; error: DecodeError }): T | undefined {
  if (r.ok) return r.value;
  if (!(r.error instanceof DecodeError)) throw new Error("error result is not a DecodeError");
  return undefined;
}

/** Checks one IKEv1 mutant; returns true when it was accepted. */
function checkV1(b: Uint8Array, seed: Seed): boolean {
  accept(decodeHeader(b));
  if (seed.kind === "chain") {
    const c = accept(decodeV1Payloads(seed.first, b, 28));
    if (c === undefined) return false;
    const again = encodeV1Payloads(c.payloads);
    const c2 = accept(decodeV1Payloads(seed.first, again, 28));
    assert.ok(c2 !== undefined, "re-encoded chain does not decode");
    assert.ok(same(c2.payloads, c.payloads), "chain changed after encode/decode");
    assert.equal(hex(encodeV1Payloads(c2.payloads)), hex(again));
    return true;
  }
  accept(decodeV2Message(b));
  const m = accept(decodeV1Message(b));
  if (m === undefined) return false;
  const enc = (x: MessageV1) =>
    x.encrypted
      ? encodeV1EncryptedMessage(x.header, x.header.nextPayload, x.body)
      : encodeV1Message(x.header, x.payloads);
  const again = enc(m);
  const m2 = accept(decodeV1Message(again));
  assert.ok(m2 !== undefined, "re-encoded message does not decode");
  assert.ok(same(m2.header, m.header), "header changed after encode/decode");
  assert.equal(m2.encrypted, m.encrypted);
  if (!m.encrypted && !m2.encrypted) {
    assert.ok(same(m2.payloads, m.payloads), "payloads changed after encode/decode");
  }
  assert.equal(hex(enc(m2)), hex(again));
  return true;
}

/** Checks one IKEv2 mutant; returns true when it was accepted. */
function checkV2(b: Uint8Array, seed: Seed): boolean {
  accept(decodeHeader(b));
  if (seed.kind === "chain") {
    const c = accept(decodeV2Payloads(seed.first, b, 28));
    if (c === undefined) return false;
    const again = encodeV2Payloads(c.payloads);
    const c2 = accept(decodeV2Payloads(seed.first, again, 28));
    assert.ok(c2 !== undefined, "re-encoded chain does not decode");
    assert.ok(same(c2.payloads, c.payloads), "chain changed after encode/decode");
    assert.equal(hex(encodeV2Payloads(c2.payloads)), hex(again));
    return true;
  }
  accept(decodeV1Message(b));
  const m = accept(decodeV2Message(b));
  if (m === undefined) return false;
  const again = encodeV2Message(m.header, m.payloads);
  const m2 = accept(decodeV2Message(again));
  assert.ok(m2 !== undefined, "re-encoded message does not decode");
  assert.ok(same(m2.header, m.header), "header changed after encode/decode");
  assert.ok(same(m2.payloads, m.payloads), "payloads changed after encode/decode");
  assert.equal(hex(encodeV2Message(m2.header, m2.payloads)), hex(again));
  return true;
}

function run(
  label: string,
  corpus: readonly Seed[],
  seed: number,
  check: (b: Uint8Array, s: Seed) => boolean,
): void {
  const rng = new Rng(seed);
  let accepted = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = corpus[i % corpus.length]!;
    const b = mutate(rng, s, corpus);
    try {
      if (check(b, s)) accepted++;
    } catch (e) {
      throw new Error(
        `${label} fuzz failure: seed ${SEED}, mutant ${i} of "${s.name}"\n` +
          `  mutant: ${hex(b)}\n  ${e instanceof Error ? e.stack ?? e.message : String(e)}`,
      );
    }
  }
  const ms = performance.now() - t0;
  console.log(
    `${label}: ${N} mutants of ${corpus.length} entries, ${accepted} accepted and stable, ` +
      `${N - accepted} rejected with DecodeError, ${(ms / 1000).toFixed(1)} s (seed ${SEED})`,
  );
  // The mutators must reach past the header: a fair share of mutants is accepted, a fair share not.
  assert.ok(accepted > N / 20 && accepted < N - N / 20, `accepted ${accepted} of ${N}`);
}

Deno.test("fuzz: IKEv1 decoders return a message or a DecodeError, accepted mutants are stable", () => {
  run("IKEv1", CORPUS.v1, SEED, checkV1);
});

Deno.test("fuzz: IKEv2 decoders return a message or a DecodeError, accepted mutants are stable", () => {
  run("IKEv2", CORPUS.v2, SEED ^ 0x5a5a5a5a, checkV2);
});

Deno.test("fuzz: the corpus covers every IKEv1 and IKEv2 payload kind", () => {
  const kinds = (seeds: readonly Seed[], v1: boolean) => {
    const out = new Set<string>();
    for (const s of seeds) {
      const r = v1
        ? (s.kind === "chain" ? decodeV1Payloads(s.first, s.bytes) : decodeV1Message(s.bytes))
        : (s.kind === "chain" ? decodeV2Payloads(s.first, s.bytes) : decodeV2Message(s.bytes));
      assert.ok(r.ok);
      if ("payloads" in r.value) { for (const p of r.value.payloads) out.add(p.kind); }
    }
    return [...out].sort();
  };
  assert.deepEqual(kinds(CORPUS.v1, true), [
    "attr",
    "cert",
    "cr",
    "d",
    "hash",
    "id",
    "ke",
    "n",
    "nat-d",
    "nat-oa",
    "nonce",
    "sa",
    "sig",
    "unknown",
    "vid",
  ]);
  assert.deepEqual(kinds(CORPUS.v2, false), [
    "auth",
    "cert",
    "certreq",
    "cp",
    "d",
    "eap",
    "idi",
    "ke",
    "n",
    "nonce",
    "sa",
    "sk",
    "skf",
    "tsi",
    "tsr",
    "unknown",
    "v",
  ]);
});
