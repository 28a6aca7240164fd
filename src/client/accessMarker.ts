export const ACCESS_MARKER = Symbol.for("convex-guard.access");
export type AccessMarker = {
  wrapper: "access" | "apiKey";
  permission?: string;
  scope?: "static" | "argument";
  onDenied?: "result" | "throw";
};
