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

const modules = import.meta.glob("./component/**/*.ts");

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
