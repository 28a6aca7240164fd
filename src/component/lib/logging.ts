import { v, type Infer } from "convex/values";

/**
 * A leveled logger, as workpool and batch-worker have. A component cannot read
 * the host's environment (no `LOG_LEVEL` variable), so the level is stored in
 * the component (`maintenance.setLogLevel`) and read where something is
 * logged. Never pass a code, key or secret to it.
 */

/** Ordered from the most verbose: a level logs itself and everything after it. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export const vLogLevel = v.union(...LOG_LEVELS.map((l) => v.literal(l)));
export type LogLevel = Infer<typeof vLogLevel>;

/** Problems that need someone's attention (a failing pass, a tick that will not run) and worse. */
export const DEFAULT_LOG_LEVEL: LogLevel = "WARN";

export type Logger = {
  debug: (...args: unknown[]) => void;
  info: (...args: unknown[]) => void;
  warn: (...args: unknown[]) => void;
  error: (...args: unknown[]) => void;
};

const PREFIX = "convex-guard:";

export function createLogger(level: LogLevel = DEFAULT_LOG_LEVEL): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  // console is looked up per call, so a test's spy installed later still sees it.
  const at =
    (l: LogLevel, method: "debug" | "info" | "warn" | "error") =>
    (...args: unknown[]) => {
      if (LOG_LEVELS.indexOf(l) >= threshold) console[method](PREFIX, ...args);
    };
  return {
    debug: at("DEBUG", "debug"),
    info: at("INFO", "info"),
    warn: at("WARN", "warn"),
    error: at("ERROR", "error"),
  };
}
