import type { MutationCtx } from "./_generated/server.js";
import type { MaintenanceResult } from "./maintenance.js";

/** Seals unsealed events and applies retention, in bounded batches. */
export async function maintainAudit(_ctx: MutationCtx, _now: number): Promise<MaintenanceResult> {
  return { processed: 0, more: false };
}
