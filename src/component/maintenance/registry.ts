import { maintainApiKeys, nextApiKeyDue } from "../apiKeys/retention.js";
import { maintainAudit } from "../audit.js";
import { maintainCodes } from "../codes.js";
import { nextCodeDue } from "../codes/store.js";
import { pendingDue } from "../rateLimits/async.js";
import { statsDue } from "../rateLimits/stats.js";
import { maintainRateLimits } from "../rateLimits/maintain.js";
import {
  apiKeysBacklog,
  auditBacklog,
  auditDue,
  codesBacklog,
  rateLimitsBacklog,
  rateLimitsDue,
  sweepDue,
} from "./due.js";
import type { MaintenancePass } from "./kick.js";
import { min } from "../lib/math.js";

/**
 * Every capability's part of the maintenance loop, by name. A new capability
 * adds one entry here (its `pass` and `nextDue`) and calls
 * `ensureMaintenance` where it creates work; nothing else in the loop changes.
 */
export const capabilities = {
  rateLimits: {
    pass: maintainRateLimits,
    // Idle keys to sweep, consumption of asynchronous limits and usage stats to fold.
    nextDue: async (ctx) => {
      const due = [await rateLimitsDue(ctx), await pendingDue(ctx.db), await statsDue(ctx)].filter(
        (d) => d !== null,
      );
      return due.length === 0 ? null : min(...due);
    },
    backlog: rateLimitsBacklog,
  },
  audit: { pass: maintainAudit, nextDue: auditDue, backlog: auditBacklog },
  codes: {
    pass: maintainCodes,
    nextDue: async (ctx) => {
      const due = await nextCodeDue(ctx);
      return due === null ? null : sweepDue(due);
    },
    backlog: codesBacklog,
  },
  apiKeys: {
    pass: maintainApiKeys,
    nextDue: async (ctx) => {
      const due = await nextApiKeyDue(ctx);
      return due === null ? null : sweepDue(due);
    },
    backlog: apiKeysBacklog,
  },
} satisfies Record<string, MaintenancePass>;

export type Capability = keyof typeof capabilities;
export const CAPABILITIES = Object.keys(capabilities) as Capability[];
