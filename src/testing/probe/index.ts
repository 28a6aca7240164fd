/** Access probing for convex-test: `probeAccess` and `expectNoFindings`. */
export { probeAccess, type ProbeOptions } from "./probe.js";
export {
  expectNoFindings,
  formatFindings,
  type Expectation,
  type Finding,
  type FindingKind,
  type ProbeReport,
} from "./report.js";
export type { Call, ProbeUser, TestClient } from "./scenario.js";
export { inventory, type FunctionInfo, type HttpRouteInfo, type Inventory } from "./inventory.js";
