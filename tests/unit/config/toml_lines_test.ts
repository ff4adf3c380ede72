import assert from "node:assert/strict";
import { keyLines, lineOf } from "../../../src/config/toml_lines.ts";

const SRC = `# comment
title = "x" # trailing
[gateway]
mtu = 1400
"quoted.key" = 1
a.b = 2

[[peer]]
name = "one"
ike_proposals = [
  "a", # ] not the end
  "b]",
]
note = """
key = not a key
"""
lit = '''
[[peer]]
'''

[[peer]]
name = "two"
inline = { x = 1, y = [1,
  2] }
after = 3

[peer.extra]
z = 1
`;

Deno.test("key lines: tables, arrays of tables, dotted and quoted keys", () => {
  const m = keyLines(SRC);
  assert.equal(m.get("title"), 2);
  assert.equal(m.get("gateway"), 3);
  assert.equal(m.get("gateway.mtu"), 4);
  assert.equal(m.get("gateway.quoted.key"), 5);
  assert.equal(m.get("gateway.a"), 6);
  assert.equal(m.get("gateway.a.b"), 6);
  assert.equal(m.get("peer[0]"), 8);
  assert.equal(m.get("peer[0].name"), 9);
  assert.equal(m.get("peer[0].ike_proposals"), 10);
  assert.equal(m.get("peer[0].note"), 14);
  assert.equal(m.get("peer[0].lit"), 17);
  assert.equal(m.get("peer[1]"), 21);
  assert.equal(m.get("peer[1].name"), 22);
  assert.equal(m.get("peer[1].inline"), 23);
  assert.equal(m.get("peer[1].after"), 25);
  assert.equal(m.get("peer[1].extra.z"), 28);
  assert.equal(m.has("peer[2]"), false, "a [[peer]] inside a literal string is no header");
  assert.equal(m.has("peer[0].key"), false, "text inside a multi-line string is no key");
});

Deno.test("lineOf falls back to the nearest defined ancestor", () => {
  const m = keyLines(SRC);
  assert.equal(lineOf(m, "peer[0].ike_proposals[1]"), 10);
  assert.equal(lineOf(m, "peer[1].missing"), 21);
  assert.equal(lineOf(m, "nothing.here"), undefined);
});

Deno.test("key lines never throw on garbage", () => {
  for (const s of ["[", "[[", "= 1", '"unterminated = 1', "a = [\n[[x]]", "\u0000\u0001", "[a.]"]) {
    assert.doesNotThrow(() => keyLines(s));
  }
});
