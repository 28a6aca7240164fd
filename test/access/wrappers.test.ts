import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { mutationGeneric } from "convex/server";
import { ACCESS_MARKER, isAccessDenial, type AccessMarker } from "../../src/client/access.js";
import { ErrorCode } from "../../src/component/lib/errors.js";
import {
  ALICE,
  api,
  audit,
  BOB,
  codeOf,
  hostTest,
  makeAccess,
  ruleCalls,
  useClock,
  userRef,
} from "./host.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

async function deniedEvents(t: ReturnType<typeof hostTest>["t"]) {
  const page = await t.query((ctx) =>
    audit.list(ctx, {
      action: "guard.access.deny",
      paginationOpts: { numItems: 50, cursor: null },
    }),
  );
  return page.page.map((e) => ({
    actor: e.actor.id,
    reason: e.reason,
    targets: e.targets.map((x) => `${x.type}:${x.id}`),
  }));
}

describe("the actor", () => {
  test("comes from the identity: no identity, no actor; a user is its tokenIdentifier", async () => {
    const { t, access } = hostTest();
    expect(await t.query((ctx) => access.actor(ctx))).toBeNull();
    expect(
      await t.withIdentity({ ...ALICE, email: "a@x.test" }).query((ctx) => access.actor(ctx)),
    ).toEqual({
      type: "user",
      id: "https://auth.test|alice",
      subject: "alice",
      issuer: "https://auth.test",
      email: "a@x.test",
      name: "Alice",
    });
  });
});

describe("function wrappers", () => {
  test("carry the access marker, non-enumerable", () => {
    const { fns } = hostTest();
    const marker = (fns.manageOrg as unknown as Record<symbol, AccessMarker>)[ACCESS_MARKER];
    expect(marker).toEqual({
      wrapper: "access",
      permission: "org.manage",
      scope: "argument",
      onDenied: "result",
    });
    expect(Object.keys(fns.manageOrg)).not.toContain(String(ACCESS_MARKER));
    expect(Object.getOwnPropertyDescriptor(fns.manageOrg, ACCESS_MARKER)?.enumerable).toBe(false);
    expect((fns.readOrg as unknown as Record<symbol, AccessMarker>)[ACCESS_MARKER]).toEqual({
      wrapper: "access",
      permission: "posts.read",
      scope: "static",
      onDenied: "throw",
    });
    expect((fns.getPost as unknown as Record<symbol, AccessMarker>)[ACCESS_MARKER]).toEqual({
      wrapper: "access",
      onDenied: "throw",
    });
  });

  test("a denied query throws a coded error and logs nothing", async () => {
    const { t } = hostTest();
    expect(await codeOf(t.query(api("readOrg"), {}))).toBe(ErrorCode.UNAUTHENTICATED);
    expect(await codeOf(t.withIdentity(ALICE).query(api("readOrg"), {}))).toBe(ErrorCode.FORBIDDEN);
    expect(await deniedEvents(t)).toEqual([]);
  });

  test("a denied mutation returns the denial and its audit event commits", async () => {
    const { t, access } = hostTest();
    const alice = t.withIdentity(ALICE);
    expect(await t.mutation(api("manageOrg"), { org: "acme" })).toEqual({
      ok: false,
      reason: "unauthenticated",
    });
    const r = await alice.mutation(api("manageOrg"), { org: "acme" });
    expect(isAccessDenial(r)).toBe(true);
    expect(r).toEqual({ ok: false, reason: "forbidden" });
    expect(await deniedEvents(t)).toEqual([
      { actor: "https://auth.test|alice", reason: "forbidden", targets: ["permission:org.manage"] },
    ]);
    // A role in another scope grants nothing here; in this scope it does.
    await t.mutation((ctx) =>
      access.grant(ctx, { actor: userRef(ALICE), role: "admin", scope: "globex" }),
    );
    expect(await alice.mutation(api("manageOrg"), { org: "acme" })).toEqual({
      ok: false,
      reason: "forbidden",
    });
    await t.mutation((ctx) =>
      access.grant(ctx, { actor: userRef(ALICE), role: "admin", scope: "acme" }),
    );
    expect(await alice.mutation(api("manageOrg"), { org: "acme" })).toBe(
      "managed acme as https://auth.test|alice",
    );
  });

  test('onDenied: "throw" throws the coded error (and so rolls its trace back)', async () => {
    const { t } = hostTest();
    expect(
      await codeOf(t.withIdentity(ALICE).mutation(api("manageOrgOrThrow"), { org: "acme" })),
    ).toBe(ErrorCode.FORBIDDEN);
    expect(await deniedEvents(t)).toEqual([]);
  });

  test("a denied action returns the denial and is audited; an admitted one gets ctx.actor", async () => {
    const { t, access } = hostTest();
    expect(await t.withIdentity(BOB).action(api("orgAction"), {})).toEqual({
      ok: false,
      reason: "forbidden",
    });
    expect((await deniedEvents(t)).map((e) => e.actor)).toEqual(["https://auth.test|bob"]);
    await t.mutation((ctx) =>
      access.grant(ctx, { actor: userRef(BOB), role: "owner", scope: "acme" }),
    );
    expect(await t.withIdentity(BOB).action(api("orgAction"), {})).toBe(
      "action by https://auth.test|bob",
    );
  });

  test("an empty scope from the arguments is bad input (INVALID_ARGUMENT), not a denial", async () => {
    const { t } = hostTest();
    expect(await codeOf(t.withIdentity(ALICE).mutation(api("manageOrg"), { org: "" }))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(await deniedEvents(t)).toEqual([]);
  });

  test("bad wrapper options are INVALID_CONFIG at registration", () => {
    const access = makeAccess();
    const def = { args: {}, handler: async () => null };
    expect(() => access.mutation(mutationGeneric, { permission: "nope" as never })(def)).toThrow(
      /unknown permission/,
    );
    expect(() => access.mutation(mutationGeneric, { scope: "acme" })(def)).toThrow(
      /needs a permission/,
    );
    expect(() =>
      access.mutation(mutationGeneric, { permission: "org.manage", scope: "" })(def),
    ).toThrow();
    expect(() => access.mutation(mutationGeneric, { onDenied: "log" as never })(def)).toThrow(
      /onDenied/,
    );
  });
});

describe("denial limit", () => {
  test("an actor's denials are limited; over the limit, refused before any rule runs and without a trace", async () => {
    const { t } = hostTest(
      makeAccess({ limit: { kind: "fixed window", rate: 2, period: 60_000 } }),
    );
    const bob = t.withIdentity(BOB);
    const alicePost = await t
      .withIdentity(ALICE)
      .mutation(api("createPost"), { title: "a", org: "acme" });
    expect(await bob.mutation(api("renamePost"), { id: alicePost, title: "x" })).toEqual({
      ok: false,
      reason: "forbidden",
    });
    expect(await bob.mutation(api("manageOrg"), { org: "acme" })).toEqual({
      ok: false,
      reason: "forbidden",
    });
    ruleCalls.read = 0;
    const limited = await bob.mutation(api("renamePost"), { id: alicePost, title: "x" });
    expect(limited).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(ruleCalls.read).toBe(0);
    expect(await codeOf(bob.query(api("myPosts"), {}))).toBe(ErrorCode.RATE_LIMITED);
    expect((await deniedEvents(t)).length).toBe(2);
    // Another actor is not affected.
    expect(
      await t.withIdentity(ALICE).mutation(api("renamePost"), { id: alicePost, title: "ok" }),
    ).toBe("renamed");
  });
});
