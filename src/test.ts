/**
 * `convex-guard/test`: helpers for a host app's convex-test suite.
 *
 * ```ts
 * import guardTest from "convex-guard/test";
 * const t = convexTest(schema, modules);
 * guardTest.register(t);
 * // ... calls that log, limit, issue ...
 * await guardTest.settle(t); // run the background work due now, without moving the clock
 * ```
 */
import { modules, register, schema } from "./testing/register.js";
import { settle } from "./testing/settle.js";

export { modules, register, schema, type AnyTestConvex } from "./testing/register.js";
export { settle, type SettleResult } from "./testing/settle.js";

export default { register, settle, schema, modules };

export { probeAccess, expectNoFindings } from "./testing/probe/index.js";
export type {
  ProbeOptions,
  ProbeReport,
  Finding,
  FindingKind,
  Expectation,
} from "./testing/probe/index.js";
