/**
 * Tables for the operational `show` commands, at most 80 columns of plain ASCII.
 * @module
 */

import type { DropCount, EspSaView, IkeSaView, PeerView, PkiCertView } from "./host.ts";

/** Lays out rows in columns (widths from the content, capped so lines fit 80 columns). */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (cells: readonly string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i]!)).join("  ").slice(0, 79)
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

/** Seconds as `1h02m`, `3m05s`, `42s`. */
export function duration(s: number): string {
  const t = Math.max(0, Math.floor(s));
  if (t >= 3600) {
    return `${Math.floor(t / 3600)}h${String(Math.floor(t % 3600 / 60)).padStart(2, "0")}m`;
  }
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${t}s`;
}

/** SPI as 8 hex digits. */
export function spiHex(spi: number): string {
  return (spi >>> 0).toString(16).padStart(8, "0");
}

/** `show peers`. */
export function peersTable(peers: readonly PeerView[]): string[] {
  if (peers.length === 0) return ["no peers configured"];
  return table(
    ["peer", "remote", "mode", "state", "ike", "esp", "detail"],
    peers.map((p) => [
      p.name,
      p.remote,
      p.mode,
      p.state,
      String(p.ikeSas),
      String(p.espSas),
      p.detail,
    ]),
  );
}

/** `show pki`: loaded certificates with days to expiry. */
export function pkiTable(rows: readonly PkiCertView[]): string[] {
  if (rows.length === 0) return ["no certificates loaded (no peer uses auth pubkey)"];
  return table(
    ["peer", "role", "subject", "expires", "days", "file"],
    rows.map((r) => [
      r.peer,
      r.role,
      r.subject,
      r.notAfter.slice(0, 10),
      r.daysLeft < 0 ? "EXPIRED" : String(r.daysLeft),
      r.file,
    ]),
  );
}

/** `show ike sa`. */
export function ikeTable(sas: readonly IkeSaView[]): string[] {
  if (sas.length === 0) return ["no IKE SAs"];
  const out: string[] = [];
  for (const sa of sas) {
    const expiry = sa.expiresSeconds === undefined
      ? ""
      : `, expires in ${duration(sa.expiresSeconds)}`;
    out.push(`${sa.peer}: ${sa.state}, ${sa.local} <-> ${sa.remote}`);
    out.push(`  spis ${sa.spis}`);
    const rekey = sa.rekeySeconds === undefined ? "" : `, rekey in ${duration(sa.rekeySeconds)}`;
    out.push(
      `  ${sa.algorithms || "(negotiating)"}, age ${duration(sa.ageSeconds)}${expiry}${rekey}, ` +
        `IKEv${sa.version}`,
    );
  }
  return out;
}

/** `show esp sa` with counters. */
export function espTable(sas: readonly EspSaView[]): string[] {
  if (sas.length === 0) return ["no ESP SAs"];
  const out: string[] = [];
  for (const sa of sas) {
    const encap = sa.encap ? " udp-encap" : "";
    out.push(
      `${sa.peer}: ${sa.direction === "in" ? "in " : "out"} spi ${
        spiHex(sa.spi)
      } ${sa.transform}${encap}, age ${duration(sa.ageSeconds)}`,
    );
    out.push(`  ${sa.localTs} === ${sa.remoteTs}`.slice(0, 79));
    const drops = sa.direction === "in"
      ? `, drops: replay ${sa.replayDrops} icv ${sa.icvFailures} policy ${sa.policyDrops}`
      : "";
    out.push(`  ${sa.packets} packets, ${sa.bytes} bytes${drops}`);
  }
  return out;
}

/** `show drops`: one line per layer and reason, most frequent first. */
export function dropsTable(drops: readonly DropCount[]): string[] {
  const rows = drops.filter((d) => d.count > 0).sort((a, b) => b.count - a.count);
  if (rows.length === 0) return ["no input dropped"];
  const w = Math.max(...rows.map((r) => r.layer.length + r.reason.length + 1));
  return rows.map((r) => `${`${r.layer} ${r.reason}`.padEnd(w)}  ${r.count}`);
}
