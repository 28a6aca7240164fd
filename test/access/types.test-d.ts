import { expectTypeOf, test } from "vitest";
import {
  mutationGeneric,
  queryGeneric,
  type GenericDataModel,
  type GenericQueryCtx,
  type RegisteredMutation,
} from "convex/server";
import {
  Access,
  defineRules,
  type AccessDenial,
  type AccessOptions,
  type ActorWith,
} from "../../src/client/access.js";
import type { AuditSink } from "../../src/client/auditSink.js";
import { components } from "../setup.js";

const access = new Access(components.guard, {
  roles: {
    member: { permissions: ["posts.read"] },
    admin: { inherits: ["member"], permissions: ["org.manage"] },
  },
});

test("permission and role names are checked at compile time", () => {
  const ctx = {} as GenericQueryCtx<GenericDataModel>;
  void access.can(ctx, "posts.read");
  // @ts-expect-error an undeclared permission
  void access.can(ctx, "posts.raed");
  // @ts-expect-error an undeclared role
  void access.grant({} as never, { actor: { type: "user", id: "u" }, role: "root" });
  // @ts-expect-error an undeclared permission in a wrapper
  access.mutation(mutationGeneric, { permission: "nope" });
  new Access(components.guard, {
    // @ts-expect-error inherits names an undeclared role
    roles: { member: { inherits: ["ghost"], permissions: ["a"] } },
  });
});

test("a wrapped mutation's handler sees ctx.actor; its result may be a denial", () => {
  const fn = access.mutation(mutationGeneric, { permission: "org.manage" })({
    args: {},
    handler: async (ctx) => {
      // Without a `profile` option the actor carries none.
      expectTypeOf(ctx.actor).toEqualTypeOf<ActorWith<never>>();
      return 1;
    },
  });
  expectTypeOf(fn).toEqualTypeOf<
    RegisteredMutation<"public", Record<string, never>, Promise<number | AccessDenial>>
  >();
});

test('with onDenied: "throw" the result type has no denial', () => {
  const fn = access.mutation(mutationGeneric, { onDenied: "throw" })({
    args: {},
    handler: async () => 1,
  });
  expectTypeOf(fn).toEqualTypeOf<
    RegisteredMutation<"public", Record<string, never>, Promise<number>>
  >();
});

type Account = { _id: string; role: "member" | "admin" };
test("the profile's type is inferred and reaches rules, roleOf and ctx.actor", () => {
  const withProfile = new Access(components.guard, {
    roles: { member: { permissions: ["posts.read"] }, admin: { inherits: ["member"] } },
    profile: async (_ctx, actor): Promise<Account | null> => ({ _id: actor.id, role: "member" }),
    roleOf: (_ctx, actor) => {
      expectTypeOf(actor.profile).toEqualTypeOf<Account | null | undefined>();
      return actor.profile?.role ?? null;
    },
    rules: defineRules<GenericDataModel, Account>({
      posts: { read: (actor, doc) => doc.owner === actor.profile?._id },
    }),
  });
  withProfile.query(queryGeneric)({
    args: {},
    handler: async (ctx) => {
      expectTypeOf(ctx.actor.profile).toEqualTypeOf<Account | null | undefined>();
      return null;
    },
  });
});

test("the audit option is the AuditSink every client takes", () => {
  expectTypeOf<
    NonNullable<AccessOptions<{ member: { permissions: ["x"] } }>["audit"]>
  >().toEqualTypeOf<AuditSink>();
});
