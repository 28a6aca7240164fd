import { readFileSync } from "node:fs";
import { v } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog, DAY, ErrorCode, isGuardError, MINUTE, RateLimiter } from "convex-guard";
import { components, guardTest, runInGuard } from "../setup.js";
import { fromHex } from "../../src/component/lib/hash.js";
import { inclusionPath } from "../../src/component/audit/merkle.js";
import { randomIndices } from "../../src/component/codes/crypto.js";

/*
 * Each code says who is at fault: the caller's input, a taken identity, the
 * stored data, or convex-guard itself. These tests produce the codes whose
 * causes are stored data (CORRUPT_STATE) and our own invariants (INTERNAL),
 * and hold docs/errors.md to the list in lib/errors.ts.
 */

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  const e = await (typeof p === "function" ? Promise.resolve().then(p) : p).then(
    () => "(no error)",
    (x: unknown) => x,
  );
  return isGuardError(e) ? e.data.code : `uncoded: ${String(e)}`;
}

test("docs/errors.md lists exactly the codes of ErrorCode", () => {
  const page = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  const documented = [...page.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  expect(documented.sort()).toEqual(Object.values(ErrorCode).sort());
});

describe("CORRUPT_STATE: stored data that fails its own invariants", () => {
  const audit = new AuditLog(components.guard);
  type T = ReturnType<typeof guardTest>;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(10 * DAY);
  });
  afterEach(() => vi.useRealTimers());

  async function sealedLog(t: T, batches: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < batches; i++) {
      ids.push(
        await t.mutation((ctx) =>
          audit.log(ctx, {
            action: "doc.edit",
            actor: { type: "user", id: "u" },
            outcome: "success",
          }),
        ),
      );
      await t.mutation((ctx) => audit.seal(ctx));
    }
    return ids;
  }

  test("seal with a malformed newest seal", async () => {
    const t = guardTest();
    await sealedLog(t, 1);
    await runInGuard(t, async (ctx) => {
      const s = (await ctx.db.query("auditSeals").first())!;
      await ctx.db.patch("auditSeals", s._id, { hash: "not a hash" });
    });
    await t.mutation((ctx) =>
      audit.log(ctx, { action: "a", actor: { type: "u", id: "u" }, outcome: "success" }),
    );
    expect(await codeOf(t.mutation((ctx) => audit.seal(ctx)))).toBe(ErrorCode.CORRUPT_STATE);
  });

  test("proof: impossible seq, no seal covering it, an edited range, a missing leaf or seal", async () => {
    const edits: ((
      ctx: Parameters<Parameters<typeof runInGuard>[1]>[0],
      id: string,
    ) => Promise<void>)[] = [
      async (ctx, id) => {
        await ctx.db.patch("auditEvents", ctx.db.normalizeId("auditEvents", id)!, { seq: -1 });
      },
      async (ctx, id) => {
        await ctx.db.patch("auditEvents", ctx.db.normalizeId("auditEvents", id)!, { seq: 10_000 });
      },
      async (ctx) => {
        const s = (await ctx.db.query("auditSeals").first())!;
        await ctx.db.patch("auditSeals", s._id, { fromSeq: -5 });
      },
      async (ctx, id) => {
        await ctx.db.patch("auditEvents", ctx.db.normalizeId("auditEvents", id)!, {
          leafHash: "x",
        });
      },
      async (ctx) => {
        // Every seal between the event's and the head: the path needs one of them.
        const seals = await ctx.db.query("auditSeals").collect();
        for (const s of seals.slice(1, -1)) await ctx.db.delete("auditSeals", s._id);
      },
    ];
    for (const [i, edit] of edits.entries()) {
      const t = guardTest();
      const [first] = await sealedLog(t, 6);
      await runInGuard(t, (ctx) => edit(ctx, first!));
      expect(await codeOf(t.query((ctx) => audit.proof(ctx, first!))), `edit ${i}`).toBe(
        ErrorCode.CORRUPT_STATE,
      );
    }
  });

  test("a rate limit whose stored sliding-window log does not decode", async () => {
    const t = guardTest();
    const limiter = new RateLimiter(components.guard, {
      w: { kind: "sliding window", rate: 100, period: MINUTE },
    });
    for (let i = 0; i < 3; i++) {
      await t.mutation((ctx) => limiter.limit(ctx, "w", { key: "k" }));
      vi.advanceTimersByTime(1000);
    }
    await runInGuard(t, async (ctx) => {
      const row = (await ctx.db.query("rateLimits").first())!;
      if (row.alg !== "sliding window") throw new Error("expected a sliding-window state");
      const log = new Uint8Array([0x80]).buffer;
      await ctx.db.patch("rateLimits", row._id, { log });
    });
    expect(await codeOf(t.mutation((ctx) => limiter.limit(ctx, "w", { key: "k" })))).toBe(
      ErrorCode.CORRUPT_STATE,
    );
  });
});

test("INTERNAL: helpers given values their callers exclude throw a coded error", async () => {
  expect(await codeOf(() => fromHex("zz"))).toBe(ErrorCode.INTERNAL);
  expect(await codeOf(inclusionPath(["a", "b"], 2))).toBe(ErrorCode.INTERNAL);
  expect(await codeOf(() => randomIndices(1, 4))).toBe(ErrorCode.INTERNAL);
});

describe("audit.log takes no message from its caller", () => {
  const typed = new AuditLog(components.guard, {
    actions: { "doc.edit": v.object({ n: v.number() }) },
  });
  const event = { action: "doc.edit", actor: { type: "u", id: "u" }, outcome: "success" as const };

  test("the client refuses an event its typed actions refuse, before calling the component", async () => {
    const calls: unknown[] = [];
    const ctx = { runMutation: async (...args: unknown[]) => calls.push(args) } as never;
    expect(await codeOf(typed.log(ctx, { ...event, action: "other" } as never))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(await codeOf(typed.log(ctx, { ...event, metadata: { n: "1" } } as never))).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(calls).toEqual([]);
  });

  test("the component has no argument that carries an error message", async () => {
    const t = guardTest();
    const refused = await t
      .mutation((ctx) =>
        ctx.runMutation(components.guard.audit.log, {
          event,
          actionMismatch: "any text a host likes",
        } as never),
      )
      .then(
        () => "accepted",
        (e: unknown) => String(e),
      );
    expect(refused).not.toBe("accepted");
    expect(refused).not.toContain("any text a host likes\n");
  });
});
