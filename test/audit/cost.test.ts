import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog } from "convex-guard";
import { components, guardTest, measure, readMetrics, runInGuard } from "../setup.js";
import { insertEvent } from "../../src/component/audit/append.js";
import { subjectKey } from "../../src/component/audit/model.js";
import type { AuditListArgs } from "../../src/client/auditLog.js";

/*
 * Cost of each call from convex-test's transaction metrics. `log` reads only
 * the write-once maintenance document (plus the eventId's own index entry when
 * it repeats): nothing another append writes. A `list` page reads the page's
 * documents plus a constant, at 1,000 and at 20,000 events alike.
 */

const audit = new AuditLog(components.guard, { retention: { days: 30 } });
const redacting = new AuditLog(components.guard, { redact: ["context.ip"] });
const actor = { type: "user", id: "admin" };

describe("audit log cost", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  test("log reads 1 document (the write-once maintenance doc) and writes the event and its target rows", async () => {
    const t = guardTest();
    await t.mutation((ctx) => audit.log(ctx, { action: "warmup", actor, outcome: "success" })); // starts the loop
    const plain = await measure(t, (ctx) =>
      audit.log(ctx, { action: "a", actor, outcome: "success" }),
    );
    expect(plain.cost).toMatchObject({ documentsRead: 1, documentsWritten: 1 });
    const twoTargets = await measure(t, (ctx) =>
      audit.log(ctx, {
        action: "a",
        actor,
        targets: [
          { type: "doc", id: "1" },
          { type: "doc", id: "2" },
        ],
        outcome: "success",
      }),
    );
    expect(twoTargets.cost).toMatchObject({ documentsRead: 1, documentsWritten: 3 });
    const withId = await measure(t, (ctx) =>
      audit.log(ctx, { action: "a", actor, outcome: "success", eventId: "e1" }),
    );
    expect(withId.cost).toMatchObject({ documentsRead: 1, documentsWritten: 1 });
    const repeat = await measure(t, (ctx) =>
      audit.log(ctx, { action: "a", actor, outcome: "success", eventId: "e1" }),
    );
    expect(repeat.cost).toMatchObject({ documentsRead: 1, documentsWritten: 0 }); // the earlier event itself
    // Redaction adds the secrets row and one ref per subject (actor + targets).
    const redacted = await measure(t, (ctx) =>
      redacting.log(ctx, {
        action: "a",
        actor,
        targets: [{ type: "doc", id: "1" }],
        outcome: "success",
        context: { ip: "1.1.1.1" },
      }),
    );
    expect(redacted.cost).toMatchObject({ documentsRead: 1, documentsWritten: 1 + 1 + 1 + 2 });
  });

  test("log reads none of the documents other appends write (no shared head)", async () => {
    const t = guardTest();
    await t.mutation((ctx) => audit.log(ctx, { action: "warmup", actor, outcome: "success" }));
    // Which documents does a log call read? Only the maintenance state, written once.
    const state = await runInGuard(t, async (ctx) =>
      (await ctx.db.query("guardState").collect()).map((d) => d._id),
    );
    const read = await t.mutation(async (ctx) => {
      const before = await readMetrics(ctx as any);
      await audit.log(ctx, { action: "a", actor, outcome: "success" });
      return (await readMetrics(ctx as any)).documentsRead - before.documentsRead;
    });
    expect(state).toHaveLength(1);
    expect(read).toBe(1);
  });

  for (const size of [1_000, 20_000]) {
    test(`a list page of 50 at ${size.toLocaleString("en")} events reads 50 documents (100 by target), whatever the filter`, async () => {
      const t = guardTest();
      // Bulk rows written directly (list cost does not depend on hash values; this keeps the test fast).
      for (let chunk = 0; chunk < size / 500; chunk++) {
        await runInGuard(t, async (ctx) => {
          for (let i = 0; i < 500; i++) {
            const n = chunk * 500 + i;
            const tenant = `t${n % 2}`;
            const actor = { type: "user", id: `u${n % 5}` };
            const target = { type: "doc", id: `d${n % 5}` };
            const recordedAt = 1_000_000 + n;
            const event = await ctx.db.insert("auditEvents", {
              action: `act${n % 4}`,
              actor,
              actorKey: subjectKey(actor),
              targets: [target],
              tenant,
              tenantKey: tenant,
              outcome: n % 3 === 0 ? "failure" : "success",
              occurredAt: recordedAt,
              recordedAt,
              commitTs: BigInt(recordedAt) * 1_000_000n,
              payloadSalt: "00".repeat(16),
              leafHash: "00".repeat(32),
            });
            await ctx.db.insert("auditTargets", {
              event,
              targetKey: subjectKey(target),
              tenantKey: tenant,
              recordedAt,
            });
          }
        });
      }
      const filters: Array<[string, Omit<AuditListArgs, "paginationOpts">, number]> = [
        ["none", {}, 50],
        ["actor", { actor: { type: "user", id: "u3" } }, 50],
        ["action", { action: "act3" }, 50],
        ["outcome", { outcome: "failure" }, 50],
        ["tenant", { tenant: "t1" }, 50],
        [
          "tenant + actor + time",
          {
            tenant: "t1",
            actor: { type: "user", id: "u3" },
            from: 1_000_000,
            to: 1_000_000 + size,
          },
          50,
        ],
        ["target", { target: { type: "doc", id: "d2" } }, 100],
        [
          "tenant + target, ascending",
          { tenant: "t0", target: { type: "doc", id: "d2" }, order: "asc" },
          100,
        ],
        [
          "tenant + outcome + time, ascending",
          { tenant: "t0", outcome: "success", from: 1_000_100, order: "asc" },
          50,
        ],
      ];
      const costs: Record<string, number> = {};
      for (const [name, filter, expected] of filters) {
        const first = await measure(t, (ctx) =>
          audit.list(ctx, { ...filter, paginationOpts: { numItems: 50, cursor: null } }),
        );
        expect(first.result.page, name).toHaveLength(50);
        const second = await measure(t, (ctx) =>
          audit.list(ctx, {
            ...filter,
            paginationOpts: { numItems: 50, cursor: first.result.continueCursor },
          }),
        );
        expect(second.result.page, name).toHaveLength(50);
        expect(first.cost.documentsRead, name).toBe(expected);
        expect(second.cost.documentsRead, name).toBe(expected);
        expect(first.cost.documentsWritten).toBe(0);
        costs[name] = first.cost.documentsRead;
      }
      console.log(`list page of 50 at ${size} events, documents read:`, costs);
    });
  }

  test("seal of a full batch and verify per 1,000 events", async () => {
    const t = guardTest();
    for (let c = 0; c < 10; c++) {
      await runInGuard(t, async (ctx) => {
        for (let i = 0; i < 100; i++)
          await insertEvent(
            ctx,
            1_000_000,
            { action: "x", actor, outcome: "success" },
            [],
            undefined,
          );
      });
    }
    const seal = await measure(t, (ctx) => audit.seal(ctx));
    // 257 unsealed read (batch + 1 to know if more wait) + the last seal; 256 patched (convex-test counts a patch as a read too).
    expect(seal.cost).toMatchObject({ documentsWritten: 257 });
    console.log("seal of 256 events:", seal.cost);
    for (let i = 0; i < 3; i++) await t.mutation((ctx) => audit.seal(ctx));
    const verify = await measure(t, async (ctx) => {
      let cursor: string | null = null;
      for (;;) {
        const r: any = await audit.verify(ctx, { cursor });
        expect(r.break).toBeNull();
        if (r.done) return;
        cursor = r.cursor;
      }
    });
    console.log("verify of 1,000 events (4 seals):", verify.cost);
    expect(verify.cost.documentsWritten).toBe(0);
    // Every event once, plus the seals (and the previous seal once per page),
    // plus a skip target not on its page (seal 2 links to seal 0).
    expect(verify.cost.documentsRead).toBeLessThanOrEqual(1000 + 4 + 2 * 2 + 1);
  });
});
