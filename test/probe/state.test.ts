import { describe, expect, test } from "vitest";
import {
  attribute,
  diff,
  victimChanges,
  type Claim,
  type Doc,
  type Snapshot,
} from "../../src/testing/probe/state.js";

const doc = (table: string, id: string, fields: Record<string, string>): Doc => ({
  table,
  id,
  body: JSON.stringify(fields),
  strings: Object.entries(fields).flat(),
});
const snap = (...docs: Doc[]): Snapshot => new Map(docs.map((d) => [d.id, d]));
const claim = (...markers: string[]): Claim => ({ markers, ids: new Set() });

describe("whose rows", () => {
  test("a row is its owner's by marker, and rows pointing to it are too, transitively", () => {
    const a = claim("tok|a", "probeA1x");
    const b = claim("tok|b");
    attribute(
      snap(
        doc("users", "u1", { token: "tok|a" }),
        doc("users", "u2", { token: "tok|b" }),
        doc("posts", "p1", { owner: "u1", title: "probeA1x" }),
        doc("comments", "c1", { post: "p1", body: "hello" }),
        doc("follows", "f1", { from: "u1", to: "u2" }),
      ),
      [a, b],
    );
    expect([...a.ids].sort()).toEqual(["c1", "p1", "u1"]);
    // A row linking both users is neither's.
    expect([...b.ids]).toEqual(["u2"]);
  });
});

describe("what a call did to the victim", () => {
  const a: Claim = { markers: ["tok|a", "probeA1x"], ids: new Set(["u1", "p1"]) };
  const b: Claim = { markers: ["tok|b"], ids: new Set(["u2"]) };
  const before = snap(
    doc("users", "u1", { token: "tok|a" }),
    doc("posts", "p1", { owner: "u1", body: "x" }),
  );

  test("the victim's rows changed or deleted", () => {
    const after = snap(
      doc("users", "u1", { token: "tok|a" }),
      doc("posts", "p1", { owner: "u1", body: "y" }),
    );
    expect(victimChanges(before, after, a, b, new Set(["u1"]))).toEqual([
      { id: "p1", table: "posts", change: "changed" },
    ]);
    expect(diff(before, snap(doc("users", "u1", { token: "tok|a" })))).toEqual([
      { id: "p1", table: "posts", change: "deleted" },
    ]);
  });

  test("a new row in the victim's name with nothing of the caller's is a write; one that names the caller is not", () => {
    const impersonated = snap(
      ...before.values(),
      doc("posts", "p2", { owner: "u1", body: "probeB3x" }),
    );
    expect(victimChanges(before, impersonated, a, b, new Set(["u1"]))).toEqual([
      { id: "p2", table: "posts", change: "inserted" },
    ]);
    const linked = snap(...before.values(), doc("follows", "f1", { from: "u2", to: "u1" }));
    expect(victimChanges(before, linked, a, b, new Set(["u1"]))).toEqual([]);
    // A comment on the victim's post (not a user row) is no write to the victim.
    const comment = snap(
      ...before.values(),
      doc("comments", "c1", { post: "p1", body: "probeB4x" }),
    );
    expect(victimChanges(before, comment, a, b, new Set(["u1"]))).toEqual([]);
  });
});
