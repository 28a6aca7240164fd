import { describe, expectTypeOf, test } from "vitest";
import type { FunctionArgs, FunctionReference, FunctionReturnType } from "convex/server";
import type { ComponentApi } from "../src/component/_generated/component.js";
import type { api, internal } from "../src/component/_generated/api.js";

type Api = typeof api;
type Host = ComponentApi<"guard">;

/**
 * For every public function of every module, the host reference must carry
 * exactly the function's own argument and return types, be "internal" (hosts
 * call it from their functions; browsers cannot) and name the install.
 */
type Mismatches = {
  [M in keyof Api]: {
    [F in keyof Api[M]]: Api[M][F] extends FunctionReference<infer T, any, any, any, any>
      ? Host[M][F & keyof Host[M]] extends FunctionReference<
          T,
          "internal",
          FunctionArgs<Api[M][F]>,
          FunctionReturnType<Api[M][F]>,
          "guard"
        >
        ? FunctionArgs<Api[M][F]> extends FunctionArgs<Host[M][F & keyof Host[M]]>
          ? FunctionReturnType<Host[M][F & keyof Host[M]]> extends FunctionReturnType<Api[M][F]>
            ? never
            : `${M & string}.${F & string}: return type`
          : `${M & string}.${F & string}: args`
        : `${M & string}.${F & string}: reference`
      : never;
  }[keyof Api[M]];
}[keyof Api];

describe("ComponentApi", () => {
  test("every public function keeps its argument and return types", () => {
    expectTypeOf<Mismatches>().toEqualTypeOf<never>();
  });

  test("has the same modules and functions as the component's public api", () => {
    expectTypeOf<keyof Host>().toEqualTypeOf<keyof Api>();
    expectTypeOf<keyof Host["maintenance"]>().toEqualTypeOf<keyof Api["maintenance"]>();
  });

  test("internal functions are not reachable by hosts", () => {
    expectTypeOf<keyof typeof internal.maintenance>().toEqualTypeOf<"tick" | "pass" | "peek">();
    expectTypeOf<
      Extract<keyof Host["maintenance"], "tick" | "pass" | "peek">
    >().toEqualTypeOf<never>();
  });

  test("a known function has its exact types", () => {
    expectTypeOf<Host["maintenance"]["runNow"]>().toEqualTypeOf<
      FunctionReference<
        "mutation",
        "internal",
        {},
        { rateLimits: number; audit: number; codes: number; apiKeys: number; more: boolean },
        "guard"
      >
    >();
  });
});
