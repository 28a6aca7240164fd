import { mutationGeneric, paginationOptsValidator } from "convex/server";
import { v, type GenericValidator, type PropertyValidators } from "convex/values";
import { describe, expect, test } from "vitest";
import { inventory } from "../../src/testing/probe/inventory.js";
import {
  generate,
  idsIn,
  idTables,
  markersIn,
  MissingId,
  slots,
  type Filler,
} from "../../src/testing/probe/values.js";
import { modules } from "./fixture/app.js";

/** A validator's JSON, as the inventory reads it from a registered function. */
async function exported(args: PropertyValidators, returns?: GenericValidator) {
  const f = mutationGeneric({ args, ...(returns ? { returns } : {}), handler: async () => null });
  const inv = await inventory({
    "./_generated/api.ts": async () => ({}),
    "./m.ts": async () => ({ f }),
  });
  const [info] = inv.functions;
  if (info === undefined) throw new Error("not registered");
  return info;
}
const json = async (args: PropertyValidators) => (await exported(args)).args;

/** Strings name their slot; ids come from a fixed table of ids. */
const fill = (ids: Record<string, string> = {}): Filler => ({
  string: (path) => `s:${path}`,
  id: (table) => ids[table],
});

describe("arguments generated from a validator", () => {
  test("a page: numItems a number, cursor null (the union allows it), optional fields left out", async () => {
    expect(generate(await json({ paginationOpts: paginationOptsValidator }), fill())).toEqual({
      paginationOpts: { numItems: 10, cursor: null },
    });
  });

  test("strings and ids come from the filler, by slot path and table", async () => {
    const args = await json({
      postId: v.id("posts"),
      body: v.string(),
      tags: v.array(v.object({ name: v.string() })),
      kind: v.union(v.literal("a"), v.literal("b")),
      when: v.optional(v.number()),
      about: v.optional(v.id("users")),
    });
    expect(generate(args, fill({ posts: "p1", users: "u1" }))).toEqual({
      postId: "p1",
      body: "s:body",
      tags: [{ name: "s:tags.[].name" }],
      kind: "a",
      about: "u1",
    });
    expect(slots(args)).toEqual([
      { path: "postId", table: "posts" },
      { path: "body" },
      { path: "tags.[].name" },
      { path: "about", table: "users" },
    ]);
  });

  test("a required id with nothing to take makes the call impossible; an optional one is left out", async () => {
    const required = await json({ postId: v.id("posts") });
    expect(() => generate(required, fill())).toThrow(MissingId);
    expect(generate(await json({ postId: v.optional(v.id("posts")) }), fill())).toEqual({});
  });

  test("a union takes its first member that can be built", async () => {
    expect(generate(await json({ x: v.union(v.id("posts"), v.string()) }), fill())).toEqual({
      x: "s:x",
    });
  });
});

describe("reading results", () => {
  test("the ids a result holds where its validator says v.id", async () => {
    const { returns } = await exported(
      {},
      v.union(
        v.object({ ok: v.literal(true), messageId: v.id("messages") }),
        v.object({ ok: v.literal(false), retryAfter: v.number() }),
      ),
    );
    expect(idTables(returns)).toEqual(["messages"]);
    expect(idsIn(returns, { ok: true, messageId: "m1" })).toEqual([
      { table: "messages", id: "m1" },
    ]);
    expect(idsIn(returns, { ok: false, retryAfter: 3 })).toEqual([]);
  });

  test("markers are found inside any string, object keys included", async () => {
    expect(
      markersIn({ a: ["x probeA1x y"], probeB2x: 1 }, ["probeA1x", "probeB2x", "probeA11x"]),
    ).toEqual(["probeA1x", "probeB2x"]);
  });
});

describe("inventory", () => {
  test("public and internal functions with their validators, wrapper markers and HTTP routes", async () => {
    const inv = await inventory(modules);
    const byPath = new Map(inv.functions.map((f) => [f.path, f]));
    expect(byPath.get("posts:purgeAll")?.visibility).toBe("internal");
    expect(byPath.get("posts:create")).toMatchObject({
      type: "mutation",
      visibility: "public",
      returns: { type: "id", tableName: "posts" },
    });
    // ApiKeys wrappers mark what they build; the probe reads it as "service".
    expect(byPath.get("service:countPosts")?.marker).toEqual({
      wrapper: "apiKey",
      onDenied: "result",
    });
    expect(byPath.get("service:postCount")?.marker).toMatchObject({
      wrapper: "access",
      permission: "posts.stats",
    });
    expect(inv.http.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /export", "GET /health"]);
  });
});
