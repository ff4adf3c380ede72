/**
 * The credential store of the IKE core: what each peer may authenticate with. Today pre-shared
 * keys (from `psk` or `psk_file`, resolved by the daemon); the certificate work adds our
 * certificate chain, private key and trust anchors here. Exchanges never read secrets from the
 * config directly: they ask an {@link Authenticator} (authenticator.ts) built over this store.
 * Secrets never leave through logs or views.
 * @module
 */

import type { Authenticator } from "./authenticator.ts";

/** Credentials by peer name. */
export interface CredentialStore {
  /** The peer's pre-shared key, if it has one. */
  sharedKey(peer: string): Uint8Array | undefined;
  /** The peer's certificate authenticator (auth = "pubkey"), if its credentials loaded. */
  pubkey?(peer: string): Authenticator | undefined;
  /**
   * True when `other` holds the same credentials for `peer` (a commit that changes a peer's
   * key drops its SAs). Compares in constant time per key; never reveals the keys.
   */
  sameFor(peer: string, other: CredentialStore): boolean;
}

/** Equal bytes, in constant time for equal lengths. */
function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** A store over in-memory keys (peer name → PSK bytes). */
export class MemoryCredentials implements CredentialStore {
  readonly #psk: ReadonlyMap<string, Uint8Array>;
  readonly #pubkey: ReadonlyMap<string, Authenticator & { readonly fingerprint: string }>;

  /** A store holding a copy of `psks` and the certificate authenticators `pubkeys`. */
  constructor(
    psks: ReadonlyMap<string, Uint8Array> = new Map(),
    pubkeys: ReadonlyMap<string, Authenticator & { readonly fingerprint: string }> = new Map(),
  ) {
    this.#psk = new Map([...psks].map(([k, v]) => [k, v.slice()]));
    this.#pubkey = pubkeys;
  }

  /** {@inheritDoc CredentialStore.pubkey} */
  pubkey(peer: string): (Authenticator & { readonly fingerprint: string }) | undefined {
    return this.#pubkey.get(peer);
  }

  /** {@inheritDoc CredentialStore.sharedKey} */
  sharedKey(peer: string): Uint8Array | undefined {
    return this.#psk.get(peer);
  }

  /** {@inheritDoc CredentialStore.sameFor} */
  sameFor(peer: string, other: CredentialStore): boolean {
    const a = this.pubkey(peer), b = other.pubkey?.(peer);
    const fp = (x: unknown) => (x as { fingerprint?: string } | undefined)?.fingerprint;
    return same(this.sharedKey(peer), other.sharedKey(peer)) && fp(a) === fp(b);
  }
}
