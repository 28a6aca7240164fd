import { afterEach, expect, test, vi } from "vitest";
import fc from "fast-check";
import { DAY, HOUR, MINUTE } from "../../src/component/lib/time.js";
import { components } from "../setup.js";
import { SCOPES, T0, setup, wrongSecret, type Scope } from "./helpers.js";

/*
 * Random create / rotate / revoke / verify / sweep / clock steps, run against
 * the component and against a small reference model written from the spec.
 * Every verification result must match exactly.
 */

const RETENTION = DAY;
type ModelKey = {
  keyId: string;
  current: string;
  previous?: { key: string; until: number };
  retired: string[];
  scopes: Scope[];
  expiresAt?: number;
  revokedAt?: number;
  purgeAt?: number;
  gone: boolean;
};

type Step =
  | { kind: "create"; scopes: number; ttl: number | null }
  | { kind: "rotate"; k: number; overlap: number }
  | { kind: "revoke"; k: number }
  | {
      kind: "verify";
      k: number;
      which: "current" | "previous" | "retired" | "wrong" | "malformed";
      scope: number | null;
      query: boolean;
    }
  | { kind: "wait"; ms: number }
  | { kind: "sweep" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("create" as const),
      scopes: fc.integer({ min: 0, max: 7 }),
      ttl: fc.option(fc.constantFrom(MINUTE, HOUR, DAY), { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("rotate" as const),
      k: fc.nat(5),
      overlap: fc.constantFrom(0, MINUTE, HOUR),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("revoke" as const), k: fc.nat(5) }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("verify" as const),
      k: fc.nat(5),
      which: fc.constantFrom(
        "current" as const,
        "previous" as const,
        "retired" as const,
        "wrong" as const,
        "malformed" as const,
      ),
      scope: fc.option(fc.nat(2), { nil: null }),
      query: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("wait" as const),
      ms: fc.constantFrom(1, 30_000, MINUTE, HOUR, DAY),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("sweep" as const) }) },
);

/** The spec: what verify must answer. */
function expected(
  m: ModelKey | undefined,
  key: string | null,
  scope: Scope | undefined,
  now: number,
) {
  if (key === null) return { ok: false, reason: "malformed" };
  if (m === undefined || m.gone) return { ok: false, reason: "unknown" };
  const matches =
    key === m.current ||
    (m.previous !== undefined && key === m.previous.key && now < m.previous.until);
  if (!matches) return { ok: false, reason: "unknown" };
  if (m.revokedAt !== undefined) return { ok: false, reason: "revoked" };
  if (m.expiresAt !== undefined && now >= m.expiresAt) return { ok: false, reason: "expired" };
  if (scope !== undefined && !m.scopes.includes(scope)) return { ok: false, reason: "scope" };
  return { ok: true, keyId: m.keyId, scopes: m.scopes };
}

afterEach(() => vi.useRealTimers());

test("the component matches the reference model over random step sequences", async () => {
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 20, maxLength: 60 }),
      fc.integer({ min: 0, max: 1e9 }),
      async (steps, start) => {
        vi.useFakeTimers();
        vi.setSystemTime(T0 + start);
        const s = setup({
          audit: undefined,
          retention: { days: RETENTION / DAY },
          denialLimit: { rate: 1000, period: 1000 },
        });
        const model: ModelKey[] = [];
        for (const st of steps) {
          const now = Date.now();
          if (st.kind === "wait") {
            vi.setSystemTime(now + st.ms);
          } else if (st.kind === "sweep") {
            await s.t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
            for (const m of model) if (m.purgeAt !== undefined && m.purgeAt <= now) m.gone = true;
          } else if (st.kind === "create") {
            const scopes = SCOPES.filter((_, i) => st.scopes & (1 << i));
            const expiresAt = st.ttl === null ? undefined : now + st.ttl;
            const r = await s.create({ scopes, expiresAt });
            model.push({
              keyId: r.keyId,
              current: r.key,
              retired: [],
              scopes,
              expiresAt,
              purgeAt: expiresAt === undefined ? undefined : expiresAt + RETENTION,
              gone: false,
            });
          } else {
            const m = model.length === 0 ? undefined : model[st.k % model.length];
            if (m === undefined) continue;
            if (st.kind === "rotate") {
              const active =
                !m.gone &&
                m.revokedAt === undefined &&
                (m.expiresAt === undefined || now < m.expiresAt);
              if (!active) {
                await expect(s.rotate(m.keyId, st.overlap)).rejects.toThrow(
                  m.gone ? /no API key/ : /cannot rotate/,
                );
                seen.add("rotate refused");
                continue;
              }
              const r = await s.rotate(m.keyId, st.overlap);
              if (m.previous) m.retired.push(m.previous.key);
              m.previous = st.overlap > 0 ? { key: m.current, until: now + st.overlap } : undefined;
              if (st.overlap === 0) m.retired.push(m.current);
              m.current = r.key;
            } else if (st.kind === "revoke") {
              if (m.gone) {
                await expect(s.revoke(m.keyId)).rejects.toThrow(/no API key/);
                continue;
              }
              expect(await s.revoke(m.keyId)).toEqual({ revoked: m.revokedAt === undefined });
              if (m.revokedAt === undefined) {
                m.revokedAt = now;
                m.purgeAt = Math.min(m.expiresAt ?? Infinity, now) + RETENTION;
              }
            } else {
              const key =
                st.which === "malformed"
                  ? null
                  : st.which === "current"
                    ? m.current
                    : st.which === "previous"
                      ? (m.previous?.key ?? m.current)
                      : st.which === "retired"
                        ? (m.retired.at(-1) ?? wrongSecret(m.current))
                        : wrongSecret(m.current);
              const scope = st.scope === null ? undefined : SCOPES[st.scope];
              const given = key ?? m.current.slice(0, -3);
              const got = st.query
                ? await s.verifyQuery(given, scope)
                : await s.verify(given, scope);
              const want = expected(m, key, scope, now);
              seen.add(want.ok ? "ok" : String(want.reason));
              expect(got).toMatchObject(want);
            }
          }
        }
      },
    ),
    { numRuns: 25 },
  );
  // The steps reach every outcome.
  expect([...seen].sort()).toEqual([
    "expired",
    "malformed",
    "ok",
    "revoked",
    "rotate refused",
    "scope",
    "unknown",
  ]);
});
