import { defineSchema } from "convex/server";
import { accessTables } from "./access/tables.js";
import { apiKeyTables } from "./apiKeys/tables.js";
import { auditTables } from "./audit/tables.js";
import { codeTables } from "./codes/tables.js";
import { maintenanceTables } from "./maintenance/tables.js";
import { rateLimitTables } from "./rateLimits/tables.js";

// Each capability owns its tables, declared in its own folder.
export default defineSchema({
  ...maintenanceTables,
  ...rateLimitTables,
  ...auditTables,
  ...codeTables,
  ...apiKeyTables,
  ...accessTables,
});
