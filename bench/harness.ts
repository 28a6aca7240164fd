/// <reference types="vite/client" />
/**
 * The bench's runtime: one convex-test instance per scenario with convex-guard
 * ("guard") and @convex-dev/rate-limiter ("rateLimiter", with its batch
 * worker) installed side by side under a bare host, a fake clock, and a helper
 * that measures one call's transaction metrics inside a host mutation.
 */
import { convexTest } from "convex-test";
import { componentsGeneric } from "convex/server";
import FakeTimers from "@sinonjs/fake-timers";
import { modules as guardModules, schema as guardSchema } from "convex-guard/test";
import type { ComponentApi } from "convex-guard/_generated/component";
import { readMetrics, diffMetrics, measure, measureQuery, type Metrics } from "../test/setup.js";
import peerSchema from "../node_modules/@convex-dev/rate-limiter/src/component/schema.js";
import batchWorkerSchema from "../node_modules/@convex-dev/batch-worker/src/component/schema.js";

// One way to measure a call, shared with the cost tests.
export { readMetrics, diffMetrics, measure, measureQuery, type Metrics };

// Eager module maps: a lazy `import()` inside a transaction makes Vite's loader
// start a timer, which convex-test forbids there (see the peer's src/test.ts,
// which is lazy and therefore unusable outside vitest).
function eager(loaded: Record<string, unknown>) {
  return Object.fromEntries(
    Object.entries(loaded)
      .filter(([path]) => !path.endsWith(".test.ts"))
      .map(([path, mod]) => [path, async () => mod]),
  );
}
const peerModules = eager(
  import.meta.glob(
    [
      "/node_modules/@convex-dev/rate-limiter/src/component/**/*.ts",
      // It calls app.use(batchWorker), which only works in the Convex bundler.
      "!/node_modules/@convex-dev/rate-limiter/src/component/convex.config.ts",
      "!**/*.test.ts",
    ],
    { eager: true },
  ),
);
const batchWorkerModules = eager(
  import.meta.glob(
    [
      "/node_modules/@convex-dev/batch-worker/src/component/**/*.ts",
      "!**/convex.config.ts",
      "!**/*.test.ts",
    ],
    { eager: true },
  ),
);

/**
 * convex-test calls each function's `exportArgs()` and `exportReturns()` on
 * every call, which serializes its validators to JSON (tens of µs for a large
 * union). A deployment does that once per push, and validators are immutable,
 * so the bench serves both components' functions with those two computed once:
 * a view of each registered function (its prototype) whose two methods return
 * the string computed on first use. Everything else (argument, return and
 * document validation, the handler) runs as convex-test runs it. Applied to
 * every module map the bench registers, ours and the peer's alike.
 */
function exportOnce(modules: Record<string, () => Promise<unknown>>) {
  return Object.fromEntries(
    Object.entries(modules).map(([path, load]) => {
      let wrapped: Promise<Record<string, unknown>> | undefined;
      return [path, () => (wrapped ??= load().then(wrapModule))];
    }),
  );
}
function wrapModule(mod: unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(mod as Record<string, unknown>).map(([name, value]) => [
      name,
      isRegistered(value) ? onceView(value) : value,
    ]),
  );
}
type Registered = { exportArgs: () => string; exportReturns: () => string };
function isRegistered(value: unknown): value is Registered {
  return (
    typeof value === "function" &&
    typeof (value as Partial<Registered>).exportArgs === "function" &&
    typeof (value as Partial<Registered>).exportReturns === "function"
  );
}
function onceView(func: Registered): Registered {
  let args: string | undefined;
  let returns: string | undefined;
  const view: Registered = Object.create(func);
  view.exportArgs = () => (args ??= func.exportArgs());
  view.exportReturns = () => (returns ??= func.exportReturns());
  return view;
}

const guardModulesOnce = exportOnce(guardModules);
const peerModulesOnce = exportOnce(peerModules);
const batchWorkerModulesOnce = exportOnce(batchWorkerModules);

export type T = ReturnType<typeof newInstance>;

/** A fresh runtime: separate instances keep one scenario's data from slowing another's queries. */
export function newInstance() {
  const t = convexTest(undefined, { "./host/_generated/api.ts": async () => ({}) });
  // `register` from convex-guard/test with the module map above (same name, schema and modules).
  t.registerComponent("guard", guardSchema, guardModulesOnce);
  t.registerComponent("rateLimiter", peerSchema as any, peerModulesOnce);
  t.registerComponent("rateLimiter/batchWorker", batchWorkerSchema as any, batchWorkerModulesOnce);
  return t;
}

/** `components.guard` and `components.rateLimiter`, as a host's `_generated/api` exports them. */
export const components = componentsGeneric() as unknown as {
  guard: ComponentApi<"guard">;
  rateLimiter: any;
};

/** Runs `fn` inside the guard component (its own tables), for storage inspection and bulk setup. */
export async function inComponent<R>(t: T, name: string, fn: (ctx: any) => Promise<R>): Promise<R> {
  return (t as any).runInComponent(name, fn);
}

// ---- fake clock ----
let clock: ReturnType<typeof FakeTimers.install> | undefined;
/** Installs a fake Date and timers (performance.now stays real, for the speed section). */
export function installClock(now: number) {
  clock = FakeTimers.install({
    now,
    toFake: [
      "Date",
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
      "setImmediate",
      "clearImmediate",
    ],
  });
  return clock;
}
export function uninstallClock() {
  clock?.uninstall();
  clock = undefined;
}
/** Moves the clock without firing timers (the maintenance loop never ends; we drive it by hand). */
export function setNow(ms: number) {
  clock!.setSystemTime(ms);
}
/** Moves the clock by `ms`, firing the timers that come due (scheduled functions start). */
export function advanceTimers(ms: number) {
  clock!.tick(ms);
}
/** Fires every pending timer, including ones they schedule (for `finishAllScheduledFunctions`). */
export function runAllTimers() {
  clock!.runAll();
}
