/**
 * The mark `Access` and `ApiKeys` wrappers leave on every function they register, so tools
 * (the access probe) can tell how a function is guarded without calling it.
 * Read it with `(fn as any)[ACCESS_MARKER]`; it is non-enumerable.
 */
export const ACCESS_MARKER = Symbol.for("convex-guard.access");

export type AccessMarker = {
  wrapper: "access" | "apiKey";
  /** The permission the wrapper requires, when it names one. */
  permission?: string;
  /** Whether the scope is fixed in the wrapper ("static") or taken from the call's arguments. */
  scope?: "static" | "argument";
  /** What a denial does: returned as a result (mutations, actions) or thrown (queries, or `onDenied: "throw"`). */
  onDenied?: "result" | "throw";
};
