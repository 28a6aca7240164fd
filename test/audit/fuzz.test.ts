import { afterAll, describe, expect, test, vi } from "vitest";
import fc from "fast-check";
import { AuditLog, DAY } from "convex-guard";
import { components, guardTest, runInGuard, type GuardMutationCtx } from "../setup.js";
import { verifyPage } from "../../src/component/audit/verify.js";
import type { BreakKind } from "../../src/component/audit/model.js";
import { sealHash } from "../../src/component/audit/merkle.js";
import { skipTargets } from "../../src/component/audit/skips.js";

/*
 * The tamper fuzzer: random tamperings of every audit table, each applied to
 * the same log inside a transaction that is rolled back afterwards, and
 * classified as
 * - "verify": `verify` reports it, with a reason its kind of tampering allows;
 * - "anchor": `verify` passes, `verify({ anchor })` (a head published before
 *   the tampering) fails;
 * - "window": it touched only events not sealed yet (the stated window).
 * Anything else fails the test. The seed is the run's (docs/development.md);
 * the bench replays a fixed one, and docs/audit-log.md states the bench's
 * counts (test/docs/docs.test.ts); set AUDIT_FUZZ_RUNS for more locally.
 */

const RUNS = Number(process.env.AUDIT_FUZZ_RUNS ?? 600);
const TABLES = [
  "auditEvents",
  "auditTargets",
  "auditSecrets",
  "auditSecretRefs",
  "auditRetained",
  "auditSeals",
] as const;
type Table = (typeof TABLES)[number];
type Doc = Record<string, any> & { _id: string; _creationTime: number };
type Outcome = { cls: "verify" | "anchor" | "window" | "schema"; kind?: BreakKind; op: string };

const ROLLBACK = new Error("rollback");

async function buildLog() {
  vi.useFakeTimers();
  vi.setSystemTime(10 * DAY);
  const t = guardTest();
  const audit = new AuditLog(components.guard, {
    redact: ["context.ip", "metadata.email"],
    retention: { days: 1 },
  });
  const keep = new AuditLog(components.guard, { redact: ["context.ip"] });
  const log = (a: AuditLog, i: number) =>
    t.mutation((ctx) =>
      a.log(ctx, {
        action: i % 2 ? "doc.edit" : "user.login",
        actor: { type: "user", id: `u${i % 3}` },
        targets: i % 3 ? [{ type: "doc", id: `d${i % 4}` }] : [],
        tenant: i % 4 ? "acme" : undefined,
        outcome: i % 5 ? "success" : "denied",
        context: { ip: `10.0.0.${i}`, userAgent: "fuzz" },
        metadata: { email: `u${i}@example.com`, n: i },
        eventId: i % 2 ? `e${i}` : undefined,
      }),
    );
  for (let i = 0; i < 4; i++) await log(audit, i); // retained later
  await t.mutation((ctx) => audit.seal(ctx));
  vi.setSystemTime(12 * DAY);
  await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 4; i++) await log(keep, 10 + round * 4 + i);
    vi.advanceTimersByTime(5_000);
    await t.mutation((ctx) => keep.seal(ctx));
  }
  await t.mutation((ctx) => keep.erase(ctx, { subject: { type: "doc", id: "d1" } }));
  await t.mutation((ctx) => keep.seal(ctx));
  const anchor = (await t.query((ctx) => keep.head(ctx)))!.anchor;
  for (let i = 0; i < 3; i++) await log(keep, 30 + i); // unsealed: the window
  vi.advanceTimersByTime(1_000);
  return { t, anchor };
}

async function verifyAll(ctx: GuardMutationCtx, anchor?: string) {
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const r = await verifyPage(ctx, Date.now(), { cursor, anchor, maxEvents: 7 });
    if (r.done) return r;
    cursor = r.cursor;
  }
  throw new Error("verify did not finish");
}

/** A different value of the same type (so the schema still accepts it). */
function mutate(x: unknown, r: number): unknown {
  if (typeof x === "number") return [x + 1, x - 1, NaN, -x - 1, x * 1000 + 7, -Infinity][r % 6];
  if (typeof x === "bigint") return [x + 1n, x - 1n, x - 10n ** 12n, x + 10n ** 12n][r % 4];
  if (typeof x === "string") return [x + "x", "zz", "", x.slice(1) || "q"][r % 4];
  if (typeof x === "boolean") return !x;
  if (Array.isArray(x)) {
    if (x.length === 0) return x;
    return [x.slice(1), [...x, x[0]], [...x].reverse()][r % 3];
  }
  if (x !== null && typeof x === "object") {
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 0) return { extra: 1 };
    const k = keys[r % keys.length]!;
    return { ...o, [k]: mutate(o[k], r >> 2) };
  }
  return x;
}

const json = (x: unknown) =>
  JSON.stringify(x, (_k, v: unknown) =>
    typeof v === "bigint" ? `${v}n` : Number.isNaN(v) ? "NaN" : v,
  );
const same = (a: unknown, b: unknown) => Object.is(a, b) || json(a) === json(b);

const strip = (d: Doc) => {
  const { _id, _creationTime, ...rest } = d;
  void _id;
  void _creationTime;
  return rest;
};

/** Kinds of `verify` break each operation may legitimately produce. */
const ANY: BreakKind[] = [
  "event_edited",
  "event_deleted",
  "event_inserted",
  "root_mismatch",
  "retained_early",
  "seal_edited",
  "seal_deleted",
  "seal_inserted",
  "event_unsealed",
  "time_mismatch",
  "index_mismatch",
  "secret_mismatch",
  "malformed",
];
const ALLOWED: Record<Table, BreakKind[]> = {
  auditEvents: ANY.filter((k) => !k.startsWith("seal_")),
  auditTargets: ["index_mismatch"],
  auditSecrets: ["secret_mismatch"],
  auditSecretRefs: ["secret_mismatch"],
  auditRetained: [
    "root_mismatch",
    "retained_early",
    "malformed",
    "event_inserted",
    "event_deleted",
    "time_mismatch",
  ],
  auditSeals: ANY,
};

/** Whether a row belongs to an event not sealed yet (inside the stated window). */
async function unsealedRow(ctx: GuardMutationCtx, table: Table, d: Doc): Promise<boolean> {
  const eventId =
    table === "auditEvents"
      ? d._id
      : table === "auditTargets" || table === "auditSecrets"
        ? d.event
        : table === "auditSecretRefs"
          ? (await ctx.db.get("auditSecrets", d.secret as never))?.event
          : undefined;
  if (eventId === undefined) return false;
  const e = await ctx.db.get("auditEvents", eventId as never);
  return e !== null && e.seq === undefined;
}

async function tamperOnce(
  ctx: GuardMutationCtx,
  anchor: string,
  table: Table,
  op: number,
  pick: number,
  r: number,
): Promise<Outcome> {
  const rows = (await ctx.db.query(table as "auditEvents").collect()) as unknown as Doc[];
  const row = rows[pick % rows.length]!;
  const other = rows[(pick + 1 + (r % Math.max(1, rows.length - 1))) % rows.length]!;
  let name: string;
  let window = await unsealedRow(ctx, table, row);
  try {
    switch (op % 7) {
      case 6: {
        // A consistent rewrite: one seal re-dated, it and every later seal re-hashed
        // (their prevHash and skip links naming the new hashes).
        name = "rewrite the seal chain";
        const seals = (await ctx.db.query("auditSeals").withIndex("by_n").collect()) as Doc[];
        const from = pick % seals.length;
        const rehashed = new Map<number, string>();
        for (const s of seals.slice(from)) {
          const edited = { ...s } as Doc;
          edited.prevHash = rehashed.get(s.n - 1) ?? s.prevHash;
          edited.skips = skipTargets(s.n).map((k, i) => rehashed.get(k) ?? s.skips[i]);
          if (rehashed.size === 0) edited.sealedAt = s.sealedAt + 1;
          const hash = await sealHash(edited as never);
          const { sealedAt, prevHash, skips } = edited;
          await ctx.db.patch(
            "auditSeals",
            s._id as never,
            { sealedAt, prevHash, skips, hash } as never,
          );
          rehashed.set(s.n, hash);
        }
        break;
      }
      case 0:
      case 1: {
        const fields = Object.keys(strip(row));
        const f = fields[r % fields.length]!;
        name = `edit ${table}.${f}`;
        const value = mutate(row[f], r >> 3);
        if (same(value, row[f])) return { cls: "schema", op: name }; // not a change
        await ctx.db.patch(table as "auditEvents", row._id as never, { [f]: value } as never);
        break;
      }
      case 2:
        name = `delete ${table}`;
        await ctx.db.delete(table as "auditEvents", row._id as never);
        break;
      case 3:
        name = `duplicate ${table}`;
        await ctx.db.insert(table as "auditEvents", strip(row) as never);
        break;
      case 4: {
        // Move a row to another event, tenant or seal position.
        const f = {
          auditEvents: "seq",
          auditTargets: "event",
          auditSecrets: "event",
          auditSecretRefs: "secret",
          auditRetained: "seq",
          auditSeals: "toSeq",
        }[table];
        name = `move ${table}.${f}`;
        if (same(row[f], other[f]) || row[f] === undefined) return { cls: "schema", op: name };
        await ctx.db.patch(table as "auditEvents", row._id as never, { [f]: other[f] } as never);
        window ||= table !== "auditEvents" && (await unsealedRow(ctx, table, other));
        break;
      }
      default: {
        // Forge: a copy of a row, back- or future-dated, or with a forged number.
        name = `forge ${table}`;
        const copy: Record<string, unknown> = strip(row);
        const shift = [-365 * DAY, -30 * DAY, -DAY, 3_600_000, 0][r % 5]!;
        for (const k of ["recordedAt", "occurredAt", "sealedAt", "retainUntil"])
          if (typeof copy[k] === "number") copy[k] = (copy[k] as number) + shift;
        if (typeof copy.commitTs === "bigint")
          copy.commitTs = (copy.commitTs as bigint) + BigInt(shift) * 1_000_000n;
        if (typeof copy.n === "number") copy.n = [0, copy.n, (copy.n as number) + 1][r % 3];
        if ("seq" in copy && r % 2) delete copy.seq;
        await ctx.db.insert(table as "auditEvents", copy as never);
      }
    }
  } catch (e) {
    if (e === ROLLBACK) throw e;
    return { cls: "schema", op: `${table} op ${op % 7} (schema refused)` };
  }
  const plain = await verifyAll(ctx);
  if (plain.break !== null) {
    expect(ALLOWED[table], `${name}: ${plain.break.message}`).toContain(plain.break.kind);
    return { cls: "verify", kind: plain.break.kind, op: name };
  }
  const anchored = await verifyAll(ctx, anchor);
  if (anchored.break !== null) return { cls: "anchor", kind: anchored.break.kind, op: name };
  if (window) return { cls: "window", op: name };
  throw new Error(`undetected tampering outside the unsealed window: ${name}`);
}

const counts: Record<string, number> = { verify: 0, anchor: 0, window: 0, schema: 0 };
const byOp: Record<string, Record<string, number>> = {};

describe("tamper fuzzer", () => {
  afterAll(() => {
    vi.useRealTimers();
    console.log(`audit tamper fuzzer: ${JSON.stringify(counts)}`);
  });

  test(`${RUNS} random tamperings of every audit table are each detected, anchor-detected or inside the unsealed window`, async () => {
    const { t, anchor } = await buildLog();
    await runInGuard(t, async (ctx) => {
      expect((await verifyAll(ctx, anchor)).break).toBeNull();
    });
    let tampered = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TABLES),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        async (table, op, pick, r) => {
          let outcome: Outcome | undefined;
          await runInGuard(t, async (ctx) => {
            outcome = await tamperOnce(ctx, anchor, table, op, pick, r);
            throw ROLLBACK;
          }).catch((e: unknown) => {
            if (e !== ROLLBACK && !(e instanceof Error && e.message === "rollback")) throw e;
          });
          counts[outcome!.cls]!++;
          if (outcome!.cls !== "schema") tampered++;
          (byOp[outcome!.op] ??= {})[outcome!.cls] = (byOp[outcome!.op]![outcome!.cls] ?? 0) + 1;
        },
      ),
      { numRuns: RUNS },
    );
    expect(tampered).toBeGreaterThanOrEqual(Math.min(500, RUNS - 100));
    expect(counts.anchor).toBeGreaterThan(0);
    await runInGuard(t, async (ctx) => {
      expect((await verifyAll(ctx, anchor)).break).toBeNull(); // every tampering was rolled back
    });
  }, 300_000);
});
