import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { ErrorCode, isGuardError } from "../../src/component/lib/errors.js";
import {
  activeRoles,
  assertGrantExpiry,
  assertScope,
  compileRoles,
  rolesHold,
} from "../../src/component/access/rules.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isGuardError(e) ? e.data.code : "not a guard error";
  }
  return undefined;
}

describe("the role graph", () => {
  test("inherited permissions are expanded in memory", () => {
    const g = compileRoles({
      member: { permissions: ["posts.read"] },
      editor: { inherits: ["member"], permissions: ["posts.write"] },
      admin: { inherits: ["editor"], permissions: ["users.manage"] },
    });
    expect([...(g.expanded.get("admin") ?? [])].sort()).toEqual([
      "posts.read",
      "posts.write",
      "users.manage",
    ]);
    expect(rolesHold(g, ["member"], "posts.write")).toBe(false);
    expect(rolesHold(g, ["member", "editor"], "posts.write")).toBe(true);
    expect(rolesHold(g, ["ghost"], "posts.read")).toBe(false);
  });

  test("unknown roles, cycles and bad names are INVALID_CONFIG", () => {
    const C = ErrorCode.INVALID_CONFIG;
    expect(codeOf(() => compileRoles({ a: { inherits: ["b"] } }))).toBe(C);
    expect(codeOf(() => compileRoles({ a: { inherits: ["b"] }, b: { inherits: ["a"] } }))).toBe(C);
    expect(codeOf(() => compileRoles({ a: { inherits: ["a"] } }))).toBe(C);
    expect(codeOf(() => compileRoles({ "bad name": {} }))).toBe(C);
    expect(codeOf(() => compileRoles({ a: { permissions: ["has space"] } }))).toBe(C);
    expect(codeOf(() => compileRoles({ a: { permissions: ["x".repeat(200)] } }))).toBe(
      ErrorCode.TOO_LARGE,
    );
    expect(codeOf(() => compileRoles({}))).toBe(C);
    expect(codeOf(() => compileRoles(null))).toBe(C);
    expect(codeOf(() => compileRoles({ a: { inherits: ["toString"] } }))).toBe(C);
  });

  test("a cycle anywhere in a random graph is refused; an acyclic graph expands to reachability", () => {
    // Reference: a role holds a permission iff some role it reaches through inherits declares it.
    const graphArb = fc.integer({ min: 1, max: 6 }).chain((n) =>
      fc.array(
        fc.record({
          inherits: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }),
          permissions: fc.uniqueArray(fc.constantFrom("p0", "p1", "p2", "p3"), { maxLength: 2 }),
        }),
        { minLength: n, maxLength: n },
      ),
    );
    fc.assert(
      fc.property(graphArb, (nodes) => {
        const roles = Object.fromEntries(
          nodes.map((r, i) => [
            `r${i}`,
            { inherits: r.inherits.map((j) => `r${j}`), permissions: r.permissions },
          ]),
        );
        const reach = (i: number, seen: Set<number>): Set<number> => {
          for (const j of nodes[i]?.inherits ?? [])
            if (!seen.has(j)) {
              seen.add(j);
              reach(j, seen);
            }
          return seen;
        };
        const cyclic = nodes.some((_, i) => reach(i, new Set()).has(i));
        if (cyclic) {
          expect(codeOf(() => compileRoles(roles))).toBe(ErrorCode.INVALID_CONFIG);
          return;
        }
        const g = compileRoles(roles);
        nodes.forEach((_, i) => {
          const held = new Set<string>();
          for (const j of [i, ...reach(i, new Set())])
            for (const p of nodes[j]?.permissions ?? []) held.add(p);
          expect(new Set(g.expanded.get(`r${i}`))).toEqual(held);
        });
      }),
    );
  });
});

describe("grant inputs", () => {
  test("an expiry in the past or now, blank scopes and oversized scopes are refused", () => {
    expect(codeOf(() => assertGrantExpiry(1000, 1000))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(codeOf(() => assertGrantExpiry(999, 1000))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(codeOf(() => assertGrantExpiry(Number.NaN, 1000))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(codeOf(() => assertGrantExpiry(1001, 1000))).toBeUndefined();
    expect(codeOf(() => assertScope(""))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(codeOf(() => assertScope("  "))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(codeOf(() => assertScope("a\nb"))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(codeOf(() => assertScope("x".repeat(257)))).toBe(ErrorCode.TOO_LARGE);
  });

  test("a grant expiring at now grants nothing", () => {
    expect(activeRoles([{ role: "a", expiresAt: 10 }, { role: "b" }], 10)).toEqual(["b"]);
    expect(activeRoles([{ role: "a", expiresAt: 11 }], 10)).toEqual(["a"]);
  });
});
