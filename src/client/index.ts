export { SECOND, MINUTE, HOUR, DAY, WEEK } from "../shared/time.js";
export { ErrorCode, isGuardError, type GuardErrorData } from "../shared/errors.js";
export type { ComponentApi } from "../component/_generated/component.js";
export * from "./auditLog.js";
export * from "./confirmations.js";
export * from "./rateLimiter.js";
