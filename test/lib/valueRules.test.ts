import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { AuditLog, ErrorCode, isGuardError } from "convex-guard";
import { components, guardTest } from "../setup.js";
import {
  MAX_OBJECT_FIELDS,
  MAX_VALUE_DEPTH,
  assertStorableValue,
} from "../../src/component/lib/values.js";
import { dumpComponent, setup, useClock } from "../codes/helpers.js";

/** `{ a: { a: ... { a: 1 } } }` with `levels` objects. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}
const wide = (fields: number) =>
  Object.fromEntries(Array.from({ length: fields }, (_, i) => [`f${i}`, i]));

const badValues: [string, unknown, string][] = [
  ["nested 30 deep", nested(30), ErrorCode.TOO_LARGE],
  ["nested one level past the limit", nested(MAX_VALUE_DEPTH + 1), ErrorCode.TOO_LARGE],
  ["an array nested 20 deep", JSON.parse("[".repeat(20) + "]".repeat(20)), ErrorCode.TOO_LARGE],
  [`${MAX_OBJECT_FIELDS + 76} fields`, wide(MAX_OBJECT_FIELDS + 76), ErrorCode.TOO_LARGE],
  ["NaN", { n: NaN }, ErrorCode.INVALID_ARGUMENT],
  ["Infinity", { n: Infinity }, ErrorCode.INVALID_ARGUMENT],
  ["-Infinity in an array", [1, -Infinity], ErrorCode.INVALID_ARGUMENT],
  ["a Date", { when: new Date(0) }, ErrorCode.INVALID_ARGUMENT],
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isGuardError(e) ? e.data.code : "uncoded";
  }
  return undefined;
}

describe("deployment value rules", () => {
  test("the checker counts the containers around a value", () => {
    expect(codeOf(() => assertStorableValue(nested(MAX_VALUE_DEPTH), "v", 0))).toBeUndefined();
    expect(codeOf(() => assertStorableValue(nested(MAX_VALUE_DEPTH), "v", 1))).toBe(
      ErrorCode.TOO_LARGE,
    );
    expect(codeOf(() => assertStorableValue(wide(MAX_OBJECT_FIELDS), "v", 0))).toBeUndefined();
    expect(codeOf(() => assertStorableValue({ ok: [1, "x", null, true, 2n] }, "v", 0))).toBe(
      undefined,
    );
  });

  describe("audit metadata", () => {
    const audit = new AuditLog(components.guard);
    const actor = { type: "user", id: "u1" };

    test("the deepest metadata a deployment stores is accepted", async () => {
      const t = guardTest();
      // args → event → metadata: two levels around it.
      await t.mutation(async (ctx) =>
        audit.log(ctx, {
          action: "ok",
          actor,
          outcome: "success",
          metadata: nested(MAX_VALUE_DEPTH - 2) as any,
        }),
      );
    });

    test.each(badValues)(
      "metadata %s is refused with a code and logs nothing",
      async (_, bad, code) => {
        const t = guardTest();
        await expect(
          t.mutation(async (ctx) =>
            audit.log(ctx, { action: "x", actor, outcome: "success", metadata: bad as any }),
          ),
        ).rejects.toSatisfy((e) => isGuardError(e, code as ErrorCode));
        const page = await t.query(async (ctx) =>
          audit.list(ctx, { paginationOpts: { numItems: 10, cursor: null } }),
        );
        expect(page.page).toEqual([]);
      },
    );
  });

  describe("confirmation code payloads", () => {
    beforeEach(useClock);
    afterEach(() => vi.useRealTimers());

    test.each(badValues)(
      "a payload %s is refused with a code and issues nothing",
      async (_, bad, code) => {
        const { t, issue } = setup();
        await expect(issue("user:1", "delete", bad)).rejects.toSatisfy((e) =>
          isGuardError(e, code as ErrorCode),
        );
        expect(await dumpComponent(t)).toEqual([]);
      },
    );
  });
});
