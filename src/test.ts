/// <reference types="vite/client" />
/**
 * Registers convex-guard with a host app's `convex-test` instance:
 *
 * ```ts
 * import guardTest from "convex-guard/test";
 * const t = convexTest(schema, modules);
 * guardTest.register(t);
 * ```
 */
import type { TestConvex } from "convex-test";
import type { GenericSchema, SchemaDefinition } from "convex/server";
import schema from "./component/schema.js";

// Eager: every module is loaded when this file is, so no function call has to
// wait for a dynamic import inside a transaction (some loaders use timers,
// which convex-test forbids there).
const loaded = import.meta.glob(["./component/**/*.ts", "!./component/**/*.test.ts"], {
  eager: true,
});
const modules = Object.fromEntries(
  Object.entries(loaded).map(([path, mod]) => [path, async () => mod]),
);

/**
 * Registers the component under `name` (default "guard", the name
 * `app.use(guard)` gives it).
 */
export function register(
  t: TestConvex<SchemaDefinition<GenericSchema, boolean>>,
  name: string = "guard",
): void {
  t.registerComponent(name, schema, modules);
}

export default { register, schema, modules };

export { probeAccess, expectNoFindings } from "./testing/probe/index.js";
export type {
  ProbeOptions,
  ProbeReport,
  Finding,
  FindingKind,
  Expectation,
} from "./testing/probe/index.js";
