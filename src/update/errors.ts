/**
 * The one error type of the update code. `code` says which kind of refusal it is (for tests and
 * for the CLI's exit status); `message` is the operator-facing reason. Messages never carry
 * secret key material.
 * @module
 */

/** Kinds of update failure. */
export type UpdateErrorCode =
  /** The file is not a well-formed bundle (magic, lengths, truncation, trailing data). */
  | "format"
  /** The manifest is well-signed but its content is unacceptable (schema, names). */
  | "manifest"
  /** A signature or certificate does not verify, or no trusted key signed. */
  | "signature"
  /** A signing key (release or root) is on the revocation list. */
  | "revoked"
  /** A release key is outside its validity window. */
  | "expired"
  /** A payload's size or SHA-256 does not match the manifest. */
  | "payload"
  /** Anti-rollback: below the floor, or older than the running version. */
  | "downgrade"
  /** Wrong product, board or architecture. */
  | "target"
  /** Key, certificate or trust files are missing or malformed. */
  | "key"
  /** The slot/boot state forbids the operation (e.g. the running slot is still on trial). */
  | "state"
  /** Downloading failed (HTTP status, connection, size cap). */
  | "download";

/** A refused or failed update operation. */
export class UpdateError extends Error {
  /** Creates an update error of kind `code`. */
  constructor(readonly code: UpdateErrorCode, message: string) {
    super(message);
    this.name = "UpdateError";
  }
}
