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
import { register as registerGuard } from "convex-guard/test";
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

export type T = ReturnType<typeof newInstance>;

/** A fresh runtime: separate instances keep one scenario's data from slowing another's queries. */
export function newInstance() {
  const t = convexTest(undefined, { "./host/_generated/api.ts": async () => ({}) });
  registerGuard(t);
  t.registerComponent("rateLimiter", peerSchema as any, peerModules);
  t.registerComponent("rateLimiter/batchWorker", batchWorkerSchema as any, batchWorkerModules);
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
