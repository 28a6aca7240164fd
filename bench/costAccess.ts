/**
 * Access control: the cost of the actor, of permission checks (roles from
 * the host's `roleOf`, and stored grants) and of grant and revoke, measured
 * as the cost tests do (test/access/cost.test.ts). convex-authz is not
 * installed here, so no row of its is measured beside these.
 */
import { Access, MINUTE } from "convex-guard";
import { components, measure, newInstance, type Metrics, type T } from "./harness.js";
import { summarize } from "./stats.js";
import type { GuardCostRow } from "./costGuard.js";

const ROLES = {
  member: { permissions: ["posts.read"] },
  admin: { inherits: ["member"], permissions: ["org.manage"] },
} as const;
const IDENTITY = { subject: "bench", issuer: "https://auth.bench" };
const ACTOR = { type: "user", id: `${IDENTITY.issuer}|${IDENTITY.subject}` };
const AUTHZ_NOTE =
  "convex-authz not installed: not measured beside it (its docs: 1 to ~8,000 reads)";

export async function accessCosts(samples: number): Promise<GuardCostRow[]> {
  const t = newInstance();
  // measure() runs a mutation on whatever it is given: here, as the signed-in user.
  const asUser: T = { ...t, ...t.withIdentity(IDENTITY) };
  const stored = new Access(components.guard, { roles: ROLES });
  const hosted = new Access(components.guard, { roles: ROLES, roleOf: () => "admin" });
  await t.mutation((ctx: any) => stored.grant(ctx, { actor: ACTOR, role: "admin", scope: "acme" }));
  const rows: {
    call: string;
    fn: (ctx: any) => Promise<unknown>;
    before?: () => Promise<unknown>;
    note?: string;
  }[] = [
    { call: "access.actor", fn: (ctx) => stored.actor(ctx), note: "from the identity" },
    {
      call: "access.can, roleOf",
      fn: (ctx) => hosted.can(ctx, "org.manage", { scope: "acme" }),
      note: `0 component reads (plus what roleOf reads); ${AUTHZ_NOTE}`,
    },
    {
      call: "access.can, stored grants, 2 checks in one scope",
      fn: async (ctx) => {
        await stored.can(ctx, "org.manage", { scope: "acme" });
        return stored.can(ctx, "posts.read", { scope: "acme" });
      },
      note: `1 indexed read per (actor, scope) per call; ${AUTHZ_NOTE}`,
    },
    {
      call: "access.grant, new expiry",
      fn: (ctx) =>
        stored.grant(ctx, {
          actor: ACTOR,
          role: "member",
          scope: "acme",
          expiresAt: Date.now() + MINUTE + Math.random(),
        }),
      note: "without audit (an audited grant adds its event)",
    },
    {
      call: "access.revoke",
      before: () =>
        t.mutation((ctx: any) =>
          stored.grant(ctx, { actor: ACTOR, role: "member", scope: "globex" }),
        ),
      fn: (ctx) => stored.revoke(ctx, { actor: ACTOR, role: "member", scope: "globex" }),
      note: "without audit",
    },
  ];
  const out: GuardCostRow[] = [];
  for (const row of rows) {
    const ms: Metrics[] = [];
    for (let i = 0; i < samples; i++) {
      if (row.before) await row.before();
      ms.push((await measure(asUser, row.fn)).cost);
    }
    out.push({ call: row.call, ours: summarize(ms), ...(row.note ? { note: row.note } : {}) });
  }
  return out;
}
