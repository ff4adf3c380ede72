/**
 * Verifying a bundle as its bytes arrive (from a file or a download). The header is checked
 * first, then the manifest's signatures and content, and only then is any payload byte handed
 * to the sink; each payload's SHA-256 is checked as its last byte arrives and trailing or
 * missing bytes are refused. The sink writes into a staging area that is used only after
 * {@link BundleStream.finish} returns.
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { UpdateError } from "./errors.ts";
import { type BundleHeader, bundleSize, decodeHeader, HEADER_LENGTH } from "./format.ts";
import { toHex } from "./hex.ts";
import { type Manifest, parseManifest, type PayloadEntry, payloadTotal } from "./manifest.ts";
import { decodeSignatureBlock } from "./signatures.ts";
import { type Signer, type TrustAnchors, verifySigners } from "./trust.ts";

/** Receives verified-manifest payload bytes, in order. */
export interface PayloadSink {
  /** A payload starts. */
  begin(entry: PayloadEntry): void;
  /** The next bytes of the current payload. */
  write(bytes: Uint8Array): void;
  /** The current payload is complete and its SHA-256 matched. */
  end(entry: PayloadEntry): void;
}

/** Options of a bundle stream. */
export interface StreamOptions {
  readonly trust: TrustAnchors;
  readonly now: Date;
  /** Largest bundle accepted (bytes). */
  readonly maxSize: number;
  /** Checks the verified manifest (target, anti-rollback); throws UpdateError to refuse. */
  readonly accept?: (m: Manifest, signers: readonly Signer[]) => void;
  /** Where payload bytes go; omit to only verify. */
  readonly sink?: PayloadSink;
}

/** The outcome of a verified bundle. */
export interface VerifiedBundle {
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  readonly signers: readonly Signer[];
  readonly size: number;
}

type Hasher = ReturnType<typeof sha256.create>;

/** A push parser and verifier of one bundle. */
export class BundleStream {
  readonly #o: StreamOptions;
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  #header: BundleHeader | undefined;
  #verified: Omit<VerifiedBundle, "size"> | undefined;
  #index = 0;
  #left = 0;
  #hash: Hasher | undefined;
  #received = 0;
  #failed: Error | undefined;

  /** Starts a stream with options `o`. */
  constructor(o: StreamOptions) {
    this.#o = o;
  }

  /** Bytes consumed so far. */
  get received(): number {
    return this.#received;
  }

  /** The verified manifest once the signatures checked out. */
  get verified(): Omit<VerifiedBundle, "size"> | undefined {
    return this.#verified;
  }

  /**
   * Feeds the next bytes; throws UpdateError on the first problem with the bundle, or the sink's
   * I/O error (and the same error on every call after).
   */
  push(chunk: Uint8Array): void {
    if (this.#failed !== undefined) throw this.#failed;
    try {
      this.#push(chunk);
    } catch (err) {
      // Refusals are UpdateErrors; anything else is the sink's I/O error (e.g. disk full).
      this.#failed = err instanceof Error ? err : new Error(String(err));
      throw this.#failed;
    }
  }

  #push(chunk: Uint8Array): void {
    this.#received += chunk.length;
    if (this.#header !== undefined && this.#received > bundleSize(this.#header)) {
      throw new UpdateError("format", "trailing data after the last payload");
    }
    if (this.#verified === undefined) {
      this.#pending.push(chunk.slice()); // the caller may reuse its buffer
      this.#pendingLength += chunk.length;
      this.#tryPreamble();
      return;
    }
    this.#payloadBytes(chunk);
  }

  #take(): Uint8Array {
    const all = new Uint8Array(this.#pendingLength);
    let off = 0;
    for (const c of this.#pending) {
      all.set(c, off);
      off += c.length;
    }
    return all;
  }

  #tryPreamble(): void {
    if (this.#header === undefined) {
      if (this.#pendingLength < HEADER_LENGTH) return;
      const h = decodeHeader(this.#take().subarray(0, HEADER_LENGTH));
      if (bundleSize(h) > this.#o.maxSize) {
        throw new UpdateError(
          "format",
          `bundle of ${bundleSize(h)} bytes exceeds the size cap of ${this.#o.maxSize}`,
        );
      }
      this.#header = h;
      if (this.#received > bundleSize(h)) {
        throw new UpdateError("format", "trailing data after the last payload");
      }
    }
    const h = this.#header;
    const preamble = HEADER_LENGTH + h.manifestLength + h.signatureLength;
    if (this.#pendingLength < preamble) return;
    const all = this.#take();
    this.#pending = [];
    this.#pendingLength = 0;
    const manifestBytes = all.slice(HEADER_LENGTH, HEADER_LENGTH + h.manifestLength);
    const entries = decodeSignatureBlock(all.subarray(HEADER_LENGTH + h.manifestLength, preamble));
    const signers = verifySigners(manifestBytes, entries, this.#o.trust, this.#o.now);
    const manifest = parseManifest(manifestBytes);
    if (payloadTotal(manifest) !== h.payloadLength) {
      throw new UpdateError("format", "header payload length does not match the manifest");
    }
    this.#o.accept?.(manifest, signers);
    this.#verified = { manifest, manifestBytes, signers };
    this.#startPayload();
    this.#payloadBytes(all.subarray(preamble));
  }

  #startPayload(): void {
    const m = this.#verified?.manifest;
    const entry = m?.payloads[this.#index];
    if (entry === undefined) return;
    this.#left = entry.size;
    this.#hash = sha256.create();
    this.#o.sink?.begin(entry);
    if (entry.size === 0) this.#endPayload(entry);
  }

  #endPayload(entry: PayloadEntry): void {
    const digest = toHex((this.#hash as Hasher).digest());
    if (digest !== entry.sha256) {
      throw new UpdateError(
        "payload",
        `payload ${entry.name}: SHA-256 does not match the manifest`,
      );
    }
    this.#o.sink?.end(entry);
    this.#index++;
    this.#startPayload();
  }

  #payloadBytes(bytes: Uint8Array): void {
    const m = (this.#verified as { manifest: Manifest }).manifest;
    let off = 0;
    while (off < bytes.length) {
      const entry = m.payloads[this.#index];
      if (entry === undefined) {
        throw new UpdateError("format", "trailing data after the last payload");
      }
      const n = Math.min(this.#left, bytes.length - off);
      const part = bytes.subarray(off, off + n);
      (this.#hash as Hasher).update(part);
      this.#o.sink?.write(part);
      this.#left -= n;
      off += n;
      if (this.#left === 0) this.#endPayload(entry);
    }
  }

  /** Declares the end of input; returns the verified bundle or throws (truncation). */
  finish(): VerifiedBundle {
    if (this.#failed !== undefined) throw this.#failed;
    const h = this.#header;
    const v = this.#verified;
    if (h === undefined || v === undefined || this.#index < v.manifest.payloads.length) {
      this.#failed = new UpdateError(
        "format",
        `truncated bundle: ${this.#received} bytes` +
          (h === undefined ? "" : ` of ${bundleSize(h)}`),
      );
      throw this.#failed;
    }
    return { ...v, size: this.#received };
  }
}

/** Verifies a whole bundle held in memory (payload bytes go to `o.sink` if given). */
export function verifyBundleBytes(bytes: Uint8Array, o: StreamOptions): VerifiedBundle {
  const s = new BundleStream(o);
  s.push(bytes);
  return s.finish();
}

/** Verifies a bundle file, reading it in chunks. */
export async function verifyBundleFile(path: string, o: StreamOptions): Promise<VerifiedBundle> {
  const f = await Deno.open(path, { read: true });
  try {
    const s = new BundleStream(o);
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await f.read(buf);
      if (n === null) break;
      s.push(buf.subarray(0, n));
    }
    return s.finish();
  } finally {
    f.close();
  }
}
