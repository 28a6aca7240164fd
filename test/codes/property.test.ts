import { afterEach, expect, test, vi } from "vitest";
import fc from "fast-check";
import { MINUTE } from "../../src/component/lib/time.js";
import { components } from "../setup.js";
import { T0, setup, wrong } from "./helpers.js";

/*
 * Random issue / consume / revoke / status / sweep / clock steps, run against
 * the component and against a small reference model written from the spec.
 * Every result must match exactly.
 */

const CONFIG = {
  digits: 6,
  ttl: 10 * MINUTE,
  grace: 0, // the model drops a row at expiry; the grace has its own tests (codes.test.ts)
  maxAttempts: 3,
  issueLimit: { rate: 3, period: 30 * MINUTE },
  failureLimit: { rate: 5, period: 60 * MINUTE },
};
const PAIRS = [
  ["alice", "delete"],
  ["bob", "delete"],
] as const;

type ModelRow = {
  state: "pending" | "consumed" | "revoked" | "locked";
  failures: number;
  expiresAt: number;
  code: string;
  codeId: string;
  payload: number;
};
type ModelPair = { row: ModelRow | null; issues: number[]; fails: number[]; oldCodes: string[] };

/** The exact sliding window: admissions in (now - period, now]. */
function window(
  log: number[],
  period: number,
  rate: number,
  now: number,
): { ok: true } | { ok: false; retryAfter: number } {
  const live = log.filter((t) => t > now - period);
  if (live.length < rate) return { ok: true };
  return { ok: false, retryAfter: live[live.length - rate]! + period - now };
}

type Step =
  | { kind: "issue"; pair: number; payload: number }
  | { kind: "consume"; pair: number; payload: number; guess: "right" | "wrong" | "old" }
  | { kind: "revoke"; pair: number }
  | { kind: "status"; pair: number }
  | { kind: "sweep" }
  | { kind: "wait"; ms: number };

const pair = fc.integer({ min: 0, max: PAIRS.length - 1 });
const payload = fc.integer({ min: 0, max: 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("issue" as const), pair, payload }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("consume" as const),
      pair,
      payload,
      guess: fc.constantFrom("right" as const, "wrong" as const, "wrong" as const, "old" as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("revoke" as const), pair }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("status" as const), pair }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sweep" as const) }) },
  // Random clocks: any millisecond offset, often across ttl and window edges.
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("wait" as const),
      ms: fc.integer({ min: 0, max: 3 * MINUTE }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("wait" as const),
      ms: fc.integer({ min: 0, max: 20 * MINUTE }),
    }),
  },
);

afterEach(() => vi.useRealTimers());

test("the component matches the reference model over random step sequences", async () => {
  const seen = new Set<string>();
  const note = (r: { ok: boolean; reason?: string }) => seen.add(r.ok ? "ok" : r.reason!);
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 30, maxLength: 80 }),
      fc.integer({ min: 0, max: 1e9 }),
      async (steps, start) => {
        vi.useFakeTimers();
        vi.setSystemTime(T0 + start);
        const s = setup({ ...CONFIG, audit: undefined });
        const model: ModelPair[] = PAIRS.map(() => ({
          row: null,
          issues: [],
          fails: [],
          oldCodes: [],
        }));
        for (const st of steps) {
          const now = Date.now();
          if (st.kind === "wait") {
            vi.setSystemTime(now + st.ms);
            continue;
          }
          if (st.kind === "sweep") {
            await s.t.mutation(async (ctx) =>
              ctx.runMutation(components.guard.maintenance.runNow, {}),
            );
            for (const m of model) if (m.row !== null && m.row.expiresAt <= now) m.row = null;
            continue;
          }
          const m = model[st.pair]!;
          const [subject, action] = PAIRS[st.pair]!;
          const row = m.row;
          if (st.kind === "issue") {
            const got = await s.issue(subject, action, { p: st.payload });
            note(
              got.ok
                ? { ok: false, reason: "issued" }
                : { ok: false, reason: `issue:${got.reason}` },
            );
            const live = row !== null && row.state !== "consumed" && now < row.expiresAt;
            const carried = live ? row.failures : 0;
            const limit = window(m.issues, CONFIG.issueLimit.period, CONFIG.issueLimit.rate, now);
            if (live && carried >= CONFIG.maxAttempts) {
              expect(got).toEqual({ ok: false, reason: "locked", retryAfter: row.expiresAt - now });
            } else if (!limit.ok) {
              expect(got).toEqual({
                ok: false,
                reason: "rate_limited",
                retryAfter: limit.retryAfter,
              });
            } else {
              expect(got).toMatchObject({ ok: true, expiresAt: now + CONFIG.ttl });
              if (!got.ok) return;
              m.issues.push(now);
              if (row !== null) m.oldCodes.push(row.code);
              m.row = {
                state: "pending",
                failures: carried,
                expiresAt: now + CONFIG.ttl,
                code: got.code,
                codeId: got.codeId,
                payload: st.payload,
              };
            }
          } else if (st.kind === "consume") {
            const code =
              row === null
                ? "123456"
                : st.guess === "right"
                  ? row.code
                  : st.guess === "wrong"
                    ? wrong(row.code)
                    : (m.oldCodes.at(-1) ?? wrong(row.code));
            const got = await s.consume(subject, action, { p: st.payload }, code);
            note(got);
            let want: Record<string, unknown>;
            if (row === null || row.state === "revoked") want = { ok: false, reason: "none" };
            else if (row.state === "consumed")
              want = { ok: false, reason: "used", codeId: row.codeId };
            else if (now >= row.expiresAt)
              want = { ok: false, reason: "expired", codeId: row.codeId };
            else if (row.failures >= CONFIG.maxAttempts) {
              want = {
                ok: false,
                reason: "locked",
                attemptsLeft: 0,
                retryAfter: row.expiresAt - now,
                codeId: row.codeId,
              };
            } else {
              const budget = window(
                m.fails,
                CONFIG.failureLimit.period,
                CONFIG.failureLimit.rate,
                now,
              );
              const left = CONFIG.maxAttempts - row.failures;
              if (!budget.ok)
                want = {
                  ok: false,
                  reason: "locked",
                  attemptsLeft: left,
                  retryAfter: budget.retryAfter,
                  codeId: row.codeId,
                };
              else if (st.payload === row.payload && code === row.code) {
                row.state = "consumed";
                want = { ok: true, codeId: row.codeId };
              } else {
                row.failures++;
                if (row.failures >= CONFIG.maxAttempts) row.state = "locked";
                m.fails.push(now);
                want = {
                  ok: false,
                  reason: st.payload === row.payload ? "invalid" : "mismatch",
                  attemptsLeft: left - 1,
                  codeId: row.codeId,
                };
              }
            }
            expect(got).toEqual(want);
          } else if (st.kind === "revoke") {
            const got = await s.revoke(subject, action);
            if (
              row !== null &&
              now < row.expiresAt &&
              (row.state === "pending" || row.state === "locked")
            ) {
              row.state = "revoked";
              expect(got).toEqual({ revoked: true, codeId: row.codeId });
            } else {
              expect(got).toEqual({ revoked: false });
            }
          } else {
            const got = await s.status(subject, action);
            if (row === null) expect(got).toEqual({ state: "none", pending: false });
            else {
              const base = { codeId: row.codeId, expiresAt: row.expiresAt };
              if (row.state === "consumed" || row.state === "revoked")
                expect(got).toEqual({ state: row.state, pending: false, ...base });
              else if (now >= row.expiresAt)
                expect(got).toEqual({ state: "expired", pending: false, ...base });
              else if (row.failures >= CONFIG.maxAttempts)
                expect(got).toEqual({ state: "locked", pending: false, attemptsLeft: 0, ...base });
              else
                expect(got).toEqual({
                  state: "pending",
                  pending: true,
                  attemptsLeft: CONFIG.maxAttempts - row.failures,
                  ...base,
                });
            }
          }
        }
        vi.useRealTimers();
      },
    ),
    { numRuns: 60 },
  );
  // The runs reached every outcome, so the comparison covered each rule.
  expect([...seen].sort()).toEqual(
    [
      "expired",
      "invalid",
      "issue:locked",
      "issue:rate_limited",
      "issued",
      "locked",
      "mismatch",
      "none",
      "ok",
      "used",
    ].sort(),
  );
});
