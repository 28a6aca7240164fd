/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import {
  componentsGeneric,
  type GenericDataModel,
  type GenericMutationCtx,
  type GenericQueryCtx,
} from "convex/server";
import type { ComponentApi } from "../src/component/_generated/component.js";
import { register } from "../src/test.js";

/**
 * A convex-test instance with convex-guard installed as "guard" under a bare
 * host app. Call client methods from `t.mutation(async (ctx) => ...)`, which
 * runs as a top-level host mutation (a throw rolls everything back).
 */
export function guardTest() {
  const t = convexTest(undefined, {
    // convex-test locates the app root by its _generated folder.
    "./host/_generated/api.ts": async () => ({}),
  });
  register(t);
  return t;
}

/** `components.guard`, as a host's `_generated/api` would export it. */
export const components = componentsGeneric() as unknown as { guard: ComponentApi<"guard"> };

/** Runs maintenance passes now until one reports nothing more to do (at most `passes`). */
export async function drainMaintenance(t: ReturnType<typeof guardTest>, passes = 4) {
  for (let i = 0; i < passes; i++) {
    const r = await t.mutation((ctx) => ctx.runMutation(components.guard.maintenance.runNow, {}));
    if (!r.more) break;
  }
}

/** Runs `fn` in a host mutation and returns its result with the transaction's metrics delta. */
export type Metrics = {
  documentsRead: number;
  documentsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  databaseQueries: number;
};

export async function readMetrics(ctx: {
  meta: { getTransactionMetrics(): Promise<any> };
}): Promise<Metrics> {
  const m = await ctx.meta.getTransactionMetrics();
  return {
    documentsRead: m.documentsRead.used,
    documentsWritten: m.documentsWritten.used,
    bytesRead: m.bytesRead.used,
    bytesWritten: m.bytesWritten.used,
    databaseQueries: m.databaseQueries.used,
  };
}

export function diffMetrics(after: Metrics, before: Metrics): Metrics {
  return {
    documentsRead: after.documentsRead - before.documentsRead,
    documentsWritten: after.documentsWritten - before.documentsWritten,
    bytesRead: after.bytesRead - before.bytesRead,
    bytesWritten: after.bytesWritten - before.bytesWritten,
    databaseQueries: after.databaseQueries - before.databaseQueries,
  };
}

/** Documents read and written: the numbers the cost tests compare. */
export const rw = (m: Metrics) => ({ read: m.documentsRead, written: m.documentsWritten });

type HostMutationCtx = GenericMutationCtx<GenericDataModel>;
type HostQueryCtx = GenericQueryCtx<GenericDataModel>;

/** Runs `fn` in a host mutation; returns its result and what the transaction spent on it. */
export async function measure<R>(
  t: ReturnType<typeof guardTest>,
  fn: (ctx: HostMutationCtx) => Promise<R>,
): Promise<{ result: R; cost: Metrics }> {
  return t.mutation(async (ctx) => {
    const before = await readMetrics(ctx as never);
    const result = await fn(ctx as unknown as HostMutationCtx);
    return { result, cost: diffMetrics(await readMetrics(ctx as never), before) };
  });
}

/** The same in a host query. */
export async function measureQuery<R>(
  t: ReturnType<typeof guardTest>,
  fn: (ctx: HostQueryCtx) => Promise<R>,
): Promise<{ result: R; cost: Metrics }> {
  return t.query(async (ctx) => {
    const before = await readMetrics(ctx as never);
    const result = await fn(ctx as unknown as HostQueryCtx);
    return { result, cost: diffMetrics(await readMetrics(ctx as never), before) };
  });
}

/**
 * Runs `fn` as a mutation inside the component itself, with its own tables:
 * for inspecting storage and for tampering tests. (convex-test has
 * `runInComponent` at run time but does not type it.)
 */
export async function runInGuard<T>(
  t: ReturnType<typeof guardTest> | { runInComponent?: unknown },
  fn: (ctx: GuardMutationCtx) => Promise<T>,
): Promise<T> {
  return (
    t as unknown as { runInComponent: (name: string, f: typeof fn) => Promise<T> }
  ).runInComponent("guard", fn);
}
export type GuardMutationCtx = import("../src/component/_generated/server.js").MutationCtx;
