/**
 * Downloading a bundle over HTTPS with resume (RFC 9110 §14 Range requests) and a size cap.
 * The bytes are kept in a `.part` file as they arrive; a later attempt asks only for the rest
 * (`Range: bytes=N-`, with `If-Range` when the server gave an ETag) and replays the kept bytes
 * first, so the installer's verifier sees the whole bundle in order. Trust for the server comes
 * from the system roots or the CA certificates given; verification is never turned off.
 * @module
 */

import { UpdateError } from "./errors.ts";

/** Download options. */
export interface DownloadOptions {
  /** Where the partial download is kept (`<part>.json` holds its URL and ETag). */
  readonly partPath: string;
  /** Largest download accepted (bytes). */
  readonly maxSize: number;
  /** Extra trusted CA certificates (PEM) for the server. */
  readonly caCerts?: readonly string[];
  /** Called once per attempt with the byte offset it resumes from (0: from the start). */
  readonly onResume?: (offset: number) => void;
}

interface PartMeta {
  readonly url: string;
  readonly etag?: string;
}

function readMeta(path: string): PartMeta | undefined {
  try {
    const j = JSON.parse(Deno.readTextFileSync(`${path}.json`)) as Partial<PartMeta>;
    if (typeof j.url !== "string") return undefined;
    return { url: j.url, ...(typeof j.etag === "string" ? { etag: j.etag } : {}) };
  } catch {
    return undefined;
  }
}

function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/** Removes a partial download and its metadata. */
export function discardPartial(partPath: string): void {
  for (const p of [partPath, `${partPath}.json`]) {
    try {
      Deno.removeSync(p);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
}

async function* replay(path: string, upTo: number): AsyncIterable<Uint8Array> {
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(64 * 1024);
    let left = upTo;
    while (left > 0) {
      const n = await f.read(buf.subarray(0, Math.min(buf.length, left)));
      if (n === null) break;
      left -= n;
      yield buf.slice(0, n);
    }
  } finally {
    f.close();
  }
}

/** Parses `Content-Range: bytes START-END/TOTAL`; returns START or undefined. */
function rangeStart(header: string | null): number | undefined {
  const m = /^bytes ([0-9]+)-[0-9]+\/(?:[0-9]+|\*)$/.exec(header ?? "");
  return m === null ? undefined : Number(m[1]);
}

/** The bundle at `url` as chunks: kept bytes first, then the network, each appended to the part. */
export async function* downloadChunks(url: string, o: DownloadOptions): AsyncIterable<Uint8Array> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UpdateError("download", `not a URL: ${url}`);
  }
  if (parsed.protocol !== "https:") throw new UpdateError("download", "only https:// URLs");
  const meta = readMeta(o.partPath);
  let have = meta?.url === url ? sizeOf(o.partPath) : 0;
  if (have === 0) discardPartial(o.partPath);
  if (have > o.maxSize) {
    discardPartial(o.partPath);
    have = 0;
  }
  const headers: Record<string, string> = {};
  if (have > 0) {
    headers["range"] = `bytes=${have}-`;
    if (meta?.etag !== undefined) headers["if-range"] = meta.etag;
  }
  const client = o.caCerts !== undefined && o.caCerts.length > 0
    ? Deno.createHttpClient({ caCerts: [...o.caCerts] })
    : undefined;
  let resp: Response | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    try {
      resp = await fetch(url, { headers, ...(client !== undefined ? { client } : {}) });
    } catch (err) {
      throw new UpdateError(
        "download",
        `${parsed.host}: ${err instanceof Error ? err.message : err}`,
      );
    }
    if (resp.status === 206 && rangeStart(resp.headers.get("content-range")) === have) {
      // Resuming: the kept bytes first.
    } else if (resp.status === 200) {
      discardPartial(o.partPath);
      have = 0;
    } else {
      await resp.body?.cancel();
      throw new UpdateError("download", `${parsed.host}: HTTP ${resp.status}`);
    }
    const etag = resp.headers.get("etag");
    if (have === 0) {
      const m: PartMeta = { url, ...(etag !== null ? { etag } : {}) };
      Deno.writeTextFileSync(`${o.partPath}.json`, JSON.stringify(m));
    }
    o.onResume?.(have);
    if (have > 0) yield* replay(o.partPath, have);
    const part = await Deno.open(o.partPath, {
      write: true,
      create: true,
      append: true,
      mode: 0o600,
    });
    let total = have;
    try {
      if (resp.body === null) return;
      reader = resp.body.getReader();
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          throw new UpdateError(
            "download",
            `interrupted after ${total} bytes (${err instanceof Error ? err.message : err}); ` +
              "run install again to resume",
          );
        }
        if (r.done) break;
        total += r.value.length;
        if (total > o.maxSize) {
          await reader.cancel();
          throw new UpdateError("download", `download exceeds the size cap of ${o.maxSize} bytes`);
        }
        let off = 0;
        while (off < r.value.length) off += await part.write(r.value.subarray(off));
        yield r.value;
      }
    } finally {
      part.close();
    }
  } finally {
    // A consumer that stops early (a refused bundle) must not leave the body open.
    await (reader !== undefined ? reader.cancel() : resp?.body?.cancel())?.catch(() => {});
    client?.close();
  }
}
