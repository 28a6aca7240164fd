export { SECOND, MINUTE, HOUR, DAY, WEEK } from "../component/lib/time.js";
export { ErrorCode, isGuardError, type GuardErrorData } from "../component/lib/errors.js";
export type { ComponentApi } from "../component/_generated/component.js";
export * from "./auditLog.js";
export * from "./confirmations.js";
export * from "./rateLimiter.js";
export { default } from "./rateLimiter.js";
export * from "./apiKeys.js";
export * from "./access.js";
