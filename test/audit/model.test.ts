import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import fc from "fast-check";
import { AuditLog, DAY } from "convex-guard";
import { components, guardTest } from "../setup.js";
import { subjectKey } from "../../src/component/audit/model.js";

/*
 * Property test: random appends (through clients with different retention),
 * maintenance passes (seal + retention), erasures and clock steps, against a
 * reference list. After every run, `list` with random filters returns exactly
 * the model's events in order, page by page; `get(reveal)` shows exactly the
 * values the model says are not erased; `verify` passes and reports exactly the
 * retained events.
 */

type Subject = { type: string; id: string };
type ModelEvent = {
  id: string;
  idx: number;
  action: string;
  actor: Subject;
  targets: Subject[];
  tenant?: string;
  outcome: "success" | "failure" | "denied";
  recordedAt: number;
  retainUntil?: number;
  sealed: boolean;
  secret?: string; // redacted metadata.secret value, while not erased
  hadSecret: boolean;
};

const clients = [
  new AuditLog(components.guard, { redact: ["metadata.secret"], retention: { days: 1 } }),
  new AuditLog(components.guard, { redact: ["metadata.secret"], retention: { days: 3 } }),
  new AuditLog(components.guard, { redact: ["metadata.secret"] }),
];
const retentionMs = [DAY, 3 * DAY, undefined];
const SYSTEM = { type: "system", id: "convex-guard" };

const subjectArb = fc.record({
  type: fc.constantFrom("user", "org"),
  id: fc.constantFrom("a", "b", "c"),
});
const appendArb = fc.record({
  kind: fc.constant("append" as const),
  client: fc.nat({ max: 2 }),
  action: fc.constantFrom("user.login", "user.delete", "doc.edit"),
  actor: subjectArb,
  targets: fc.array(subjectArb, { maxLength: 3 }),
  tenant: fc.option(fc.constantFrom("t1", "t2"), { nil: undefined }),
  outcome: fc.constantFrom("success" as const, "failure" as const, "denied" as const),
  secret: fc.option(fc.string({ minLength: 1, maxLength: 5 }), { nil: undefined }),
});
const opArb = fc.oneof(
  { weight: 6, arbitrary: appendArb },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("tick" as const),
      ms: fc.integer({ min: 0, max: 2 * DAY }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("maintain" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("erase" as const),
      client: fc.nat({ max: 2 }),
      subject: subjectArb,
    }),
  },
);
const filterArb = fc.record(
  {
    one: fc.option(
      fc.oneof(
        subjectArb.map((actor) => ({ actor })),
        subjectArb.map((target) => ({ target })),
        fc
          .constantFrom("user.login", "user.delete", "doc.edit", "guard.audit.retention")
          .map((action) => ({ action })),
        fc.constantFrom("success" as const, "failure" as const).map((outcome) => ({ outcome })),
      ),
      { nil: undefined },
    ),
    tenant: fc.option(fc.constantFrom("t1", "t2"), { nil: undefined }),
    from: fc.option(fc.integer({ min: 0, max: 10 * DAY }), { nil: undefined }),
    span: fc.option(fc.integer({ min: 0, max: 10 * DAY }), { nil: undefined }),
    order: fc.option(fc.constantFrom("asc" as const, "desc" as const), { nil: undefined }),
    pageSize: fc.integer({ min: 1, max: 7 }),
  },
  { requiredKeys: ["pageSize"] },
);

const key = subjectKey;

describe("audit log vs a reference list", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test("random appends, seals, retention and erasures; random filtered pages", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.array(filterArb, { minLength: 4, maxLength: 8 }),
        async (ops, filters) => {
          const t = guardTest();
          let now = 1_000_000;
          vi.setSystemTime(now);
          let model: ModelEvent[] = [];
          let idx = 0;
          let retainedCount = 0;
          const push = (e: Omit<ModelEvent, "idx" | "sealed" | "hadSecret">) =>
            model.push({ ...e, idx: idx++, sealed: false, hadSecret: e.secret !== undefined });

          for (const op of [...ops, { kind: "maintain" as const }]) {
            if (op.kind === "append") {
              const id = await t.mutation((ctx) =>
                clients[op.client]!.log(ctx, {
                  action: op.action,
                  actor: op.actor,
                  targets: op.targets,
                  tenant: op.tenant,
                  outcome: op.outcome,
                  metadata: op.secret === undefined ? { n: idx } : { n: idx, secret: op.secret },
                }),
              );
              const rm = retentionMs[op.client];
              push({
                id,
                action: op.action,
                actor: op.actor,
                targets: op.targets,
                tenant: op.tenant,
                outcome: op.outcome,
                recordedAt: now,
                retainUntil: rm === undefined ? undefined : now + rm,
                secret: op.secret,
              });
            } else if (op.kind === "tick") {
              now += op.ms;
              vi.setSystemTime(now);
            } else if (op.kind === "maintain") {
              await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
              // Seal (all: batches are far above these sizes), then retain sealed events past their horizon.
              for (const e of model) e.sealed = true;
              const due = model
                .filter((e) => e.retainUntil !== undefined && e.retainUntil <= now)
                .sort((a, b) => a.retainUntil! - b.retainUntil! || a.idx - b.idx)
                .slice(0, 100);
              model = model.filter((e) => !due.includes(e));
              retainedCount += due.length;
              if (due.some((e) => e.action !== "guard.audit.retention")) {
                const horizon = Math.max(...due.map((e) => e.retainUntil! - e.recordedAt));
                push({
                  id: "?",
                  action: "guard.audit.retention",
                  actor: SYSTEM,
                  targets: [],
                  outcome: "success",
                  recordedAt: now,
                  retainUntil: now + horizon,
                });
              }
            } else {
              const r = await t.mutation((ctx) =>
                clients[op.client]!.erase(ctx, { subject: op.subject }),
              );
              expect(r.done).toBe(true);
              for (const e of model) {
                if (
                  key(e.actor) === key(op.subject) ||
                  e.targets.some((x) => key(x) === key(op.subject))
                )
                  e.secret = undefined;
              }
              const rm = retentionMs[op.client];
              push({
                id: "?",
                action: "guard.audit.erase",
                actor: SYSTEM,
                targets: [op.subject],
                outcome: "success",
                recordedAt: now,
                retainUntil: rm === undefined ? undefined : now + rm,
              });
            }
          }

          // System events: learn their ids from an unfiltered ascending listing (order checked below too).
          const all = await listAll(t, { order: "asc" }, 50);
          expect(all.map((e) => e.action)).toEqual(model.map((e) => e.action));
          all.forEach((e, i) => {
            if (model[i]!.id === "?") model[i]!.id = e.id;
          });
          expect(all.map((e) => e.id)).toEqual(model.map((e) => e.id));

          for (const f of filters) {
            const filter: any = { ...(f.one ?? {}), tenant: f.tenant, order: f.order };
            if (f.from !== undefined) filter.from = f.from;
            if (f.from !== undefined && f.span !== undefined) filter.to = f.from + f.span;
            const expected = model
              .filter((e) => {
                if (filter.tenant !== undefined && e.tenant !== filter.tenant) return false;
                if (filter.actor && key(e.actor) !== key(filter.actor)) return false;
                if (filter.target && !e.targets.some((x) => key(x) === key(filter.target)))
                  return false;
                if (filter.action && e.action !== filter.action) return false;
                if (filter.outcome && e.outcome !== filter.outcome) return false;
                if (filter.from !== undefined && e.recordedAt < filter.from) return false;
                if (filter.to !== undefined && e.recordedAt > filter.to) return false;
                return true;
              })
              .map((e) => e.id);
            if ((filter.order ?? "desc") === "desc") expected.reverse();
            const got = await listAll(t, filter, f.pageSize);
            expect(got.map((e) => e.id)).toEqual(expected);
          }

          for (const e of model) {
            const got = (await t.query((ctx) => clients[2]!.get(ctx, e.id, { reveal: true })))!;
            expect(got.metadata?.secret).toBe(e.secret);
            expect(got.erased ?? []).toEqual(
              e.hadSecret && e.secret === undefined ? ["metadata.secret"] : [],
            );
          }

          const ver = await verifyAll(t);
          expect(ver.break).toBeNull();
          expect(ver.retained).toBe(retainedCount);
        },
      ),
      { numRuns: Number(process.env.AUDIT_RUNS ?? 25) },
    );
  });
});

async function listAll(t: ReturnType<typeof guardTest>, filter: any, pageSize: number) {
  const out: any[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const page: any = await t.query((ctx) =>
      clients[0]!.list(ctx, { ...filter, paginationOpts: { numItems: pageSize, cursor } }),
    );
    expect(page.page.length).toBeLessThanOrEqual(pageSize);
    out.push(...page.page);
    if (page.isDone) return out;
    cursor = page.continueCursor;
  }
  throw new Error("pagination did not finish");
}

export async function verifyAll(t: ReturnType<typeof guardTest>) {
  let cursor: string | null = null;
  let retained = 0;
  for (let i = 0; i < 1000; i++) {
    const r: any = await t.query((ctx) => clients[0]!.verify(ctx, { cursor }));
    retained += r.retained.reduce((n: number, x: any) => n + x.toSeq - x.fromSeq + 1, 0);
    if (r.done) return { ...r, retained };
    cursor = r.cursor;
  }
  throw new Error("verify did not finish");
}
