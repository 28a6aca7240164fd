/**
 * The component as convex-test needs it: its schema and its function modules,
 * imported statically so the built package loads in plain Node, Jest or
 * vitest alike (no bundler-only `import.meta.glob`), and so no function call
 * waits for a dynamic import inside a transaction (some loaders use timers,
 * which convex-test forbids there).
 */
import type { TestConvex } from "convex-test";
import type { GenericSchema, SchemaDefinition } from "convex/server";
import * as generatedApi from "../component/_generated/api.js";
import * as access from "../component/access.js";
import * as apiKeys from "../component/apiKeys.js";
import * as audit from "../component/audit.js";
import * as codes from "../component/codes.js";
import * as maintenance from "../component/maintenance.js";
import * as rateLimits from "../component/rateLimits.js";
import schema from "../component/schema.js";

/** A convex-test instance of any host app. */
export type AnyTestConvex = TestConvex<SchemaDefinition<GenericSchema, boolean>>;

/**
 * Every module of src/component/ that defines functions, keyed by its path as
 * convex-test resolves function references ("rateLimits:limit" is
 * "./component/rateLimits"). The `_generated` entry tells convex-test where
 * the component's root is. test/toolchain/testEntry.test.ts holds this list
 * equal to the component's top-level modules.
 */
export const modules: Record<string, () => Promise<object>> = {
  "./component/_generated/api.js": async () => generatedApi,
  "./component/access.js": async () => access,
  "./component/apiKeys.js": async () => apiKeys,
  "./component/audit.js": async () => audit,
  "./component/codes.js": async () => codes,
  "./component/maintenance.js": async () => maintenance,
  "./component/rateLimits.js": async () => rateLimits,
};

export { schema };

/**
 * Registers the component under `name` (default "guard", the name
 * `app.use(guard)` gives it).
 */
export function register(t: AnyTestConvex, name: string = "guard"): void {
  t.registerComponent(name, schema, modules);
}
