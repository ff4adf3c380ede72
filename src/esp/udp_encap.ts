/**
 * Demultiplexing of UDP port 4500, which IKE and ESP-in-UDP share (RFC 3948 §2):
 * - a one-byte payload 0xFF is a NAT-keepalive, ignored by the receiver (§2.3);
 * - a payload starting with the 4-byte Non-ESP Marker (zero, where ESP has its SPI) is IKE
 *   (§2.2), handed to the control plane without the marker;
 * - anything else is ESP, whose SPI is never zero (RFC 4303 §2.1).
 * @module
 */

/** What a datagram on port 4500 carries. */
export type Port4500Kind = "keepalive" | "ike" | "esp" | "invalid";

/** Length of the Non-ESP Marker. */
export const NON_ESP_MARKER_LENGTH = 4;

/** The NAT-keepalive payload (RFC 3948 §2.3). */
export const NAT_KEEPALIVE = new Uint8Array([0xff]);

/** Classifies the UDP payload at `buf[offset, offset+length)`. Never throws. */
export function classifyPort4500(buf: Uint8Array, offset: number, length: number): Port4500Kind {
  if (length <= 0 || offset < 0 || offset + length > buf.length) return "invalid";
  if (length === 1) return buf[offset] === 0xff ? "keepalive" : "invalid";
  if (length < NON_ESP_MARKER_LENGTH) return "invalid";
  const marker = buf[offset]! | buf[offset + 1]! | buf[offset + 2]! | buf[offset + 3]!;
  if (marker === 0) {
    // An IKE header is 28 bytes (RFC 2408 §3.1, RFC 7296 §3.1); shorter is not IKE.
    return length >= NON_ESP_MARKER_LENGTH + 28 ? "ike" : "invalid";
  }
  // ESP: SPI + sequence number at least (RFC 4303 §2); the SA layer checks the rest.
  return length >= 8 ? "esp" : "invalid";
}

/** Writes an IKE message behind a Non-ESP Marker into `out`; returns the datagram length. */
export function addNonEspMarker(ike: Uint8Array, out: Uint8Array): number {
  if (out.length < ike.length + NON_ESP_MARKER_LENGTH) {
    throw new RangeError("buffer too small for the IKE message and its Non-ESP Marker");
  }
  out.fill(0, 0, NON_ESP_MARKER_LENGTH);
  out.set(ike, NON_ESP_MARKER_LENGTH);
  return ike.length + NON_ESP_MARKER_LENGTH;
}
