/**
 * Certificate credentials of the `auth = "pubkey"` peers, loaded when a config is applied.
 * ike_services.ts imports this module (and with it src/pki) only when some peer uses pubkey,
 * so a PSK-only router never loads the PKI code. A peer whose files do not load gets no
 * authenticator (its exchanges fail with a clear reason) and an error line; certificates that
 * expire within 30 days are logged as warnings. Private keys never appear in logs or views.
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { PkiCertView } from "../shell/host.ts";
import { configPath } from "../config/credential_files.ts";
import { PubkeyAuthenticator } from "../ike/auth/pubkey.ts";
import { formatName } from "../pki/name.ts";
import {
  daysLeft,
  expiryWarnings,
  loadPeerCredentials,
  type PeerCredentials,
  PkiError,
} from "../pki/store.ts";

/** The result of loading every pubkey peer. */
export interface LoadedPubkeys {
  /** Authenticators by peer name. */
  readonly authenticators: Map<string, PubkeyAuthenticator>;
  /** Credentials by peer name (for expiry checks). */
  readonly credentials: Map<string, PeerCredentials>;
  /** Peers whose credentials did not load: peer → reason. */
  readonly errors: Map<string, string>;
}

/** Loads the credentials of every pubkey peer of `config`; paths relative to `baseDir`. */
export function loadPubkeys(config: Config, baseDir: string, clock: () => Date): LoadedPubkeys {
  const out: LoadedPubkeys = {
    authenticators: new Map(),
    credentials: new Map(),
    errors: new Map(),
  };
  for (const p of config.peer) {
    if (p.auth !== "pubkey") continue;
    const at = (f: string | undefined) => f === undefined ? undefined : configPath(f, baseDir);
    try {
      const creds = loadPeerCredentials({
        name: p.name,
        cert: at(p.cert),
        key: at(p.key),
        ca: p.ca?.map((f) => configPath(f, baseDir)),
        crl: p.crl?.map((f) => configPath(f, baseDir)),
      });
      out.credentials.set(p.name, creds);
      out.authenticators.set(p.name, new PubkeyAuthenticator(creds, p.remote_id, clock));
    } catch (e) {
      if (!(e instanceof PkiError)) throw e;
      out.errors.set(p.name, e.message);
    }
  }
  return out;
}

/** Expiry warning lines (30 days ahead) for every loaded certificate, per peer. */
export function pubkeyExpiryWarnings(
  l: LoadedPubkeys,
  now: Date,
): { peer: string; line: string }[] {
  return [...l.credentials].flatMap(([peer, c]) =>
    expiryWarnings(c, now).map((line) => ({ peer, line }))
  );
}

/** `show pki` rows. */
export function pkiViews(l: LoadedPubkeys, now: Date): PkiCertView[] {
  return [...l.credentials].flatMap(([peer, c]) =>
    c.loaded.map(({ file, role, cert }) => ({
      peer,
      role,
      subject: formatName(cert.subject),
      notAfter: cert.notAfter.toISOString(),
      daysLeft: daysLeft(cert, now),
      file,
    }))
  );
}
