import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { convexTest } from "convex-test";
import { mutationGeneric, queryGeneric } from "convex/server";
import { Access } from "../../src/client/access.js";
import { ApiKeys } from "../../src/client/apiKeys.js";
import { ErrorCode } from "../../src/component/lib/errors.js";
import { register } from "../../src/test.js";
import { components, runInGuard } from "../setup.js";
import {
  advance,
  ALICE,
  api,
  audit,
  BOB,
  codeOf,
  hostTest,
  makeAccess,
  ROLES,
  schema,
  useClock,
  userRef,
} from "./host.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

const grantRows = (t: ReturnType<typeof hostTest>["t"]) =>
  runInGuard(t, (ctx) => ctx.db.query("accessGrants").collect());

describe("stored grants", () => {
  test("a role holds in its scope only, until it expires; rolesOf lists what is in force", async () => {
    const { t, access } = hostTest();
    const alice = t.withIdentity(ALICE);
    const can = (scope?: string) =>
      alice.query((ctx) => access.can(ctx, "org.manage", scope === undefined ? {} : { scope }));
    await t.mutation((ctx) =>
      access.grant(ctx, {
        actor: userRef(ALICE),
        role: "admin",
        scope: "acme",
        expiresAt: Date.now() + 60_000,
      }),
    );
    expect(await can("acme")).toBe(true);
    expect(await can("globex")).toBe(false);
    expect(await can()).toBe(false);
    expect(await alice.query((ctx) => access.can(ctx, "posts.read", { scope: "acme" }))).toBe(true); // inherited
    expect(await t.query((ctx) => access.rolesOf(ctx, userRef(ALICE), { scope: "acme" }))).toEqual([
      { role: "admin", grantedAt: Date.now(), expiresAt: Date.now() + 60_000 },
    ]);
    advance(60_000);
    expect(await can("acme")).toBe(false);
    expect(await t.query((ctx) => access.rolesOf(ctx, userRef(ALICE), { scope: "acme" }))).toEqual(
      [],
    );
    expect(await alice.query((ctx) => access.check(ctx, "org.manage", { scope: "acme" }))).toEqual({
      ok: false,
      reason: "forbidden",
    });
    expect(await t.query((ctx) => access.check(ctx, "org.manage", { scope: "acme" }))).toEqual({
      ok: false,
      reason: "unauthenticated",
    });
  });

  test("grant and revoke are audited with the caller as actor; a repeated grant writes nothing", async () => {
    const { t, access } = hostTest();
    await t
      .withIdentity(BOB)
      .mutation((ctx) => access.grant(ctx, { actor: userRef(ALICE), role: "member" }));
    expect(
      await t.mutation((ctx) => access.grant(ctx, { actor: userRef(ALICE), role: "member" })),
    ).toMatchObject({
      changed: false,
    });
    expect(
      await t.mutation((ctx) => access.revoke(ctx, { actor: userRef(ALICE), role: "member" })),
    ).toEqual({
      revoked: true,
    });
    expect(
      await t.mutation((ctx) => access.revoke(ctx, { actor: userRef(ALICE), role: "member" })),
    ).toEqual({
      revoked: false,
    });
    const events = await t.query((ctx) =>
      audit.list(ctx, { paginationOpts: { numItems: 10, cursor: null } }),
    );
    expect(
      events.page.map((e) => [
        e.action,
        e.actor.id,
        e.targets[0]?.id,
        (e.metadata as { role?: string }).role,
      ]),
    ).toEqual([
      ["guard.access.revoke", "convex-guard", userRef(ALICE).id, "member"],
      ["guard.access.grant", userRef(BOB).id, userRef(ALICE).id, "member"],
    ]);
    expect(await grantRows(t)).toEqual([]);
  });

  test("a grant inside a call is seen by the next check of the same call", async () => {
    const { t } = hostTest();
    expect(await t.withIdentity(ALICE).mutation(api("grantSelfThenCheck"), {})).toEqual([
      false,
      true,
    ]);
  });

  test("bad input is a coded error and changes nothing", async () => {
    const { t, access } = hostTest();
    const grant = (args: object) =>
      t.mutation((ctx) => access.grant(ctx, { actor: userRef(ALICE), role: "member", ...args }));
    expect(await codeOf(grant({ role: "ghost" }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(grant({ scope: "" }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(grant({ scope: " " }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(grant({ scope: "s".repeat(300) }))).toBe(ErrorCode.TOO_LARGE);
    expect(await codeOf(grant({ expiresAt: Date.now() }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(grant({ expiresAt: Date.now() - 1 }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(grant({ actor: { type: "user", id: "x".repeat(2000) } }))).toBe(
      ErrorCode.TOO_LARGE,
    );
    expect(await codeOf(grant({ actor: { type: "User!", id: "x" } }))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(await codeOf(grant({ actor: { type: "user", id: "" } }))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    // The component checks on its own too (a caller that bypasses the client).
    const direct = (args: object) =>
      t.mutation((ctx) =>
        ctx.runMutation(components.guard.access.grant, {
          actor: userRef(ALICE),
          role: "member",
          declaredRoles: ["member"],
          ...args,
        }),
      );
    expect(await codeOf(direct({ role: "admin" }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(direct({ declaredRoles: [] }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(direct({ scope: "" }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await codeOf(direct({ expiresAt: 1 }))).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await grantRows(t)).toEqual([]);
    // Unknown permissions at run time.
    expect(await codeOf(t.query((ctx) => access.can(ctx, "posts.fly" as never)))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(await codeOf(t.query((ctx) => access.check(ctx, "posts.read", { scope: "" })))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
  });

  test("bad configuration is INVALID_CONFIG", () => {
    const bad = (options: object) => () =>
      new Access(components.guard, { roles: ROLES, ...options } as never);
    expect(bad({ roles: { a: { inherits: ["b"] } } })).toThrow(/unknown role/);
    expect(bad({ roles: { a: { inherits: ["b"] }, b: { inherits: ["a"] } } })).toThrow(/cycle/);
    expect(bad({ audit: {} })).toThrow(/audit/);
    expect(bad({ limit: { kind: "fixed window", rate: 0, period: 1 } })).toThrow();
    expect(bad({ rules: { posts: { read: () => true } }, public: ["posts"] })).toThrow(/public/);
    expect(bad({ roleOf: "admin" })).toThrow(/roleOf/);
    expect(bad({ profile: { users: "by_token" } })).toThrow(/profile must be a function/);
  });
});

describe("roles from the host (roleOf)", () => {
  test("roleOf decides, with no component read; grants are refused; unknown roles are INVALID_CONFIG", async () => {
    const roleOf = vi.fn((_ctx: unknown, actor: { id: string }, scope: string | undefined) =>
      actor.id.endsWith("|alice") && scope === "acme" ? ("admin" as const) : null,
    );
    const access = makeAccess({ roleOf });
    const { t } = hostTest(access);
    expect(
      await t.withIdentity(ALICE).query((ctx) => access.can(ctx, "org.manage", { scope: "acme" })),
    ).toBe(true);
    expect(
      await t.withIdentity(BOB).query((ctx) => access.can(ctx, "org.manage", { scope: "acme" })),
    ).toBe(false);
    expect(
      await codeOf(
        t.mutation((ctx) => access.grant(ctx, { actor: userRef(ALICE), role: "admin" })),
      ),
    ).toBe(ErrorCode.INVALID_CONFIG);
    const liar = makeAccess({ roleOf: () => "root" as never });
    expect(await codeOf(t.withIdentity(ALICE).query((ctx) => liar.can(ctx, "org.manage")))).toBe(
      ErrorCode.INVALID_CONFIG,
    );
  });
});

describe("service actors", () => {
  test("a key an ApiKeys wrapper verified is a service actor; a hand-set ctx.apiKey is not", async () => {
    const keys = new ApiKeys(components.guard, { prefix: "sk_test", scopes: ["jobs"] });
    const access = makeAccess();
    const whoKey = keys.query(queryGeneric)({
      args: {},
      handler: async (ctx) => access.actor(ctx),
    });
    const forged = queryGeneric({
      args: {},
      handler: async (ctx) =>
        access.actor({ ...ctx, apiKey: { keyId: "k", name: "n", owner: {}, scopes: [] } } as never),
    });
    const makeKey = mutationGeneric({
      args: {},
      handler: async (ctx) =>
        keys.create(ctx, { name: "worker", owner: { type: "team", id: "t1" }, scopes: ["jobs"] }),
    });
    const t = convexTest(schema, {
      "./host/_generated/api.ts": async () => ({}),
      "./host/posts.ts": async () => ({ whoKey, forged, makeKey }),
    });
    register(t);
    const { key, keyId } = await t.mutation(api("makeKey"), {});
    expect(await t.query(api("whoKey"), { apiKey: key })).toEqual({
      type: "service",
      id: keyId,
      name: "worker",
      owner: { type: "team", id: "t1" },
      scopes: ["jobs"],
    });
    expect(await t.query(api("forged"), {})).toBeNull();
  });
});
