/**
 * Serializes a registered function's argument and return validators once.
 *
 * A Convex function exposes them as `exportArgs()` / `exportReturns()`, which
 * rebuild the JSON from the validator on every call. The backend calls them
 * once per deployment push; convex-test calls both on every function call,
 * and for `limit` (whose config union has four kinds) that was about 30 µs a
 * call, a tenth of a call through convex-test (bench speed rows). Validators
 * are immutable, so the first string is the only one.
 */
type Exports = { exportArgs?: unknown; exportReturns?: unknown };

export function exportOnce<F extends object>(fn: F): F {
  const f: Exports = fn;
  for (const name of ["exportArgs", "exportReturns"] as const) {
    const compute = f[name];
    if (typeof compute !== "function") continue;
    let json: unknown;
    f[name] = () => (json ??= compute.call(fn));
  }
  return fn;
}
