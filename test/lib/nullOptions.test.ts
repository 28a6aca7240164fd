import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ApiKeys, Confirmations, ErrorCode, HOUR, isGuardError } from "convex-guard";
import { components } from "../setup.js";
import { dumpComponent, setup, useClock } from "../apiKeys/helpers.js";

/*
 * Issue 22: `rotate({ keyId, overlap: null })` applied the one-day default
 * (the old secret still verified 23 hours later), and `denialLimit: null` or
 * `previousSecrets: null` were read as "use the default". An omitted option
 * means its default; an explicit null is refused, naming the option, and
 * changes nothing.
 */

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

function refusal(run: () => unknown): { code: string; field: unknown } | string {
  try {
    run();
  } catch (e) {
    if (isGuardError(e)) return { code: e.data.code, field: e.data.field };
    return `uncoded: ${String(e)}`;
  }
  return "(accepted)";
}

async function refusalOf(p: Promise<unknown>) {
  return p.then(
    () => "(accepted)",
    (e: unknown) => (isGuardError(e) ? { code: e.data.code, field: e.data.field } : String(e)),
  );
}

describe("explicit null is refused, never read as the default", () => {
  test("ApiKeys.rotate({ overlap: null }) is INVALID_ARGUMENT naming overlap, and the key keeps its secret", async () => {
    const s = setup();
    const { keyId, key } = await s.create();
    const before = await dumpComponent(s.t);
    expect(
      await refusalOf(
        s.t.mutation((ctx) => s.keys.rotate(ctx, { keyId, overlap: null as unknown as number })),
      ),
    ).toEqual({ code: ErrorCode.INVALID_ARGUMENT, field: "overlap" });
    expect(await dumpComponent(s.t)).toEqual(before);
    expect(await s.verify(key)).toMatchObject({ ok: true });
  });

  test("every other ApiKeys method argument set to null", async () => {
    const s = setup();
    const { keyId } = await s.create();
    const owner = { type: "team", id: "t" };
    const calls: [string, (ctx: any) => Promise<unknown>][] = [
      ["actor", (ctx) => s.keys.rotate(ctx, { keyId, actor: null as never })],
      ["actor", (ctx) => s.keys.revoke(ctx, { keyId, actor: null as never })],
      ["actor", (ctx) => s.keys.remove(ctx, { keyId, actor: null as never })],
      [
        "expiresAt",
        (ctx) => s.keys.create(ctx, { name: "n", owner, scopes: [], expiresAt: null as never }),
      ],
      [
        "actor",
        (ctx) => s.keys.create(ctx, { name: "n", owner, scopes: [], actor: null as never }),
      ],
      ["scope", (ctx) => s.keys.verify(ctx, { key: "k", scope: null as never })],
      [
        "owner",
        (ctx) =>
          s.keys.list(ctx, { owner: null as never, paginationOpts: { numItems: 1, cursor: null } }),
      ],
    ];
    const before = await dumpComponent(s.t);
    for (const [field, call] of calls) {
      expect(await refusalOf(s.t.mutation(call)), field).toEqual({
        code: ErrorCode.INVALID_ARGUMENT,
        field,
      });
    }
    expect(await dumpComponent(s.t)).toEqual(before);
  });

  test("ApiKeys options denialLimit, limit, audit, retention, maxKeysPerOwner: null are INVALID_CONFIG naming the option", () => {
    for (const field of ["denialLimit", "limit", "audit", "retention", "maxKeysPerOwner"]) {
      expect(
        refusal(
          () =>
            new ApiKeys(components.guard, {
              prefix: "sk_live",
              scopes: ["a"],
              [field]: null,
            } as never),
        ),
        field,
      ).toEqual({ code: ErrorCode.INVALID_CONFIG, field });
    }
  });

  test("Confirmations options previousSecrets and the other defaults: null are INVALID_CONFIG naming the option", () => {
    const secret = "s".repeat(32);
    const fields = [
      "previousSecrets",
      "digits",
      "ttl",
      "grace",
      "maxAttempts",
      "issueLimit",
      "failureLimit",
      "audit",
    ];
    for (const field of fields) {
      expect(
        refusal(() => new Confirmations(components.guard, { secret, [field]: null } as never)),
        field,
      ).toEqual({ code: ErrorCode.INVALID_CONFIG, field });
    }
    // Omitted options still mean their defaults.
    expect(refusal(() => new Confirmations(components.guard, { secret, ttl: HOUR }))).toBe(
      "(accepted)",
    );
    expect(refusal(() => new ApiKeys(components.guard, { prefix: "p", scopes: [] }))).toBe(
      "(accepted)",
    );
  });
});
