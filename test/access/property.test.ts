/**
 * Access control against a small reference model: grants per (actor, scope,
 * role) with expiry, roles expanded by hand, and the posts rule (an actor
 * reads and writes its own posts, and cannot give one away).
 */
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import fc from "fast-check";
import { ALICE, BOB, advance, api, hostTest, tokenOf, useClock, userRef } from "./host.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

const PEOPLE = { alice: ALICE, bob: BOB } as const;
type Who = keyof typeof PEOPLE;
const SCOPES = [undefined, "acme", "globex"] as const;
/** The role graph of host.ts, expanded by hand. */
const HELD: Record<string, string[]> = {
  member: ["posts.read", "posts.write"],
  admin: ["posts.read", "posts.write", "org.manage"],
  owner: ["posts.read", "posts.write", "org.manage", "org.delete"],
};
const PERMISSIONS = ["posts.read", "posts.write", "org.manage", "org.delete"] as const;

const who = fc.constantFrom<Who>("alice", "bob");
const scope = fc.constantFrom(...SCOPES);
const role = fc.constantFrom("member", "admin", "owner" as const);
const op = fc.oneof(
  fc.record({
    kind: fc.constant("grant" as const),
    who,
    role,
    scope,
    ttl: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant("revoke" as const), who, role, scope }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({
    kind: fc.constant("check" as const),
    who,
    permission: fc.constantFrom(...PERMISSIONS),
    scope,
  }),
  fc.record({ kind: fc.constant("get" as const), who, post: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("rename" as const), who, post: fc.integer({ min: 0, max: 2 }) }),
  fc.record({
    kind: fc.constant("give" as const),
    who,
    post: fc.integer({ min: 0, max: 2 }),
    to: who,
  }),
);

test("grants, scopes, expiry and row rules agree with the reference model", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
      vi.setSystemTime(1_700_000_000_000);
      const { t, access } = hostTest();
      // Posts: alice's, bob's, and one deleted (a missing id of the table).
      const creators: Who[] = ["alice", "bob", "alice"];
      const owners: (Who | null)[] = [...creators];
      const ids: string[] = [];
      for (const o of creators)
        ids.push(
          await t.withIdentity(PEOPLE[o]).mutation(api("createPost"), { title: "t", org: "acme" }),
        );
      await t.withIdentity(ALICE).mutation(api("deletePost"), { id: ids[2] });
      owners[2] = null;
      const grants = new Map<string, number>(); // who|scope|role -> expiresAt (Infinity: none)
      const key = (w: Who, s: string | undefined, r: string) => `${w}|${s ?? ""}|${r}`;
      for (const o of ops) {
        const now = Date.now();
        if (o.kind === "grant") {
          await t.mutation((ctx) =>
            access.grant(ctx, {
              actor: userRef(PEOPLE[o.who]),
              role: o.role,
              ...(o.scope === undefined ? {} : { scope: o.scope }),
              ...(o.ttl === undefined ? {} : { expiresAt: now + o.ttl }),
            }),
          );
          grants.set(key(o.who, o.scope, o.role), o.ttl === undefined ? Infinity : now + o.ttl);
        } else if (o.kind === "revoke") {
          await t.mutation((ctx) =>
            access.revoke(ctx, {
              actor: userRef(PEOPLE[o.who]),
              role: o.role,
              ...(o.scope === undefined ? {} : { scope: o.scope }),
            }),
          );
          grants.delete(key(o.who, o.scope, o.role));
        } else if (o.kind === "advance") {
          advance(o.ms);
        } else if (o.kind === "check") {
          const expected = Object.keys(HELD).some(
            (r) =>
              (grants.get(key(o.who, o.scope, r)) ?? -Infinity) > now &&
              HELD[r]?.includes(o.permission) === true,
          );
          const got = await t
            .withIdentity(PEOPLE[o.who])
            .query((ctx) =>
              access.can(ctx, o.permission, o.scope === undefined ? {} : { scope: o.scope }),
            );
          expect(got).toBe(expected);
        } else if (o.kind === "get") {
          const doc = await t
            .withIdentity(PEOPLE[o.who])
            .query(api("getPost"), { id: ids[o.post] });
          expect(doc !== null).toBe(owners[o.post] === o.who);
        } else if (o.kind === "rename") {
          const r = await t
            .withIdentity(PEOPLE[o.who])
            .mutation(api("renamePost"), { id: ids[o.post], title: "r" });
          expect(r).toEqual(
            owners[o.post] === o.who ? "renamed" : { ok: false, reason: "forbidden" },
          );
        } else {
          const r = await t
            .withIdentity(PEOPLE[o.who])
            .mutation(api("givePost"), { id: ids[o.post], to: tokenOf(PEOPLE[o.to]) });
          const allowed = owners[o.post] === o.who && o.to === o.who;
          expect(r).toEqual(allowed ? "given" : { ok: false, reason: "forbidden" });
        }
      }
    }),
    { numRuns: 40 },
  );
});
