/**
 * What an app exposes, read from the modules it passes to convexTest: every
 * registered function with its visibility, type, validators and wrapper
 * marker, and the routes of its `http.ts`.
 */
import type { ValidatorJSON } from "convex/values";
import { ACCESS_MARKER, type AccessMarker } from "../../client/accessMarker.js";

export type FunctionType = "query" | "mutation" | "action";

export type FunctionInfo = {
  /** The Convex function path, "module:export" ("posts:get", "admin/users:list"). */
  path: string;
  type: FunctionType;
  visibility: "public" | "internal";
  args: ValidatorJSON;
  /** null when the function declares no `returns`. */
  returns: ValidatorJSON | null;
  /** Set by the Access and ApiKeys wrappers. */
  marker?: AccessMarker;
};

export type HttpRouteInfo = {
  method: string;
  /** The route's path; a prefix route ends with "*". */
  path: string;
  marker?: AccessMarker;
};

export type Inventory = { functions: FunctionInfo[]; http: HttpRouteInfo[] };

/** The modules map convexTest takes: `import.meta.glob` of the convex folder. */
export type ModuleMap = Record<string, () => Promise<unknown>>;

type Registered = {
  isPublic?: boolean;
  isInternal?: boolean;
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  exportArgs?: () => string;
  exportReturns?: () => string;
};

type Router = { getRoutes(): Array<[string, string, unknown]> };

function markerOf(value: unknown): AccessMarker | undefined {
  if ((typeof value !== "function" && typeof value !== "object") || value === null)
    return undefined;
  return (value as { [ACCESS_MARKER]?: AccessMarker })[ACCESS_MARKER];
}

/** The folder convexTest treats as the app's root: the one holding `_generated`. */
function rootOf(paths: string[]): string {
  const generated = paths.find((p) => p.includes("_generated"));
  if (generated === undefined)
    throw new Error(
      "probeAccess: the modules map has no _generated folder; pass the same map you give convexTest",
    );
  return generated.split("_generated", 1)[0] ?? "";
}

function typeOf(f: Registered): FunctionType | undefined {
  if (f.isQuery) return "query";
  if (f.isMutation) return "mutation";
  if (f.isAction) return "action";
  return undefined;
}

function isRouter(value: unknown): value is Router {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { getRoutes?: unknown }).getRoutes === "function"
  );
}

/** Every function and HTTP route the app registers, sorted by path. */
export async function inventory(modules: ModuleMap): Promise<Inventory> {
  const root = rootOf(Object.keys(modules));
  const functions: FunctionInfo[] = [];
  const http: HttpRouteInfo[] = [];
  for (const [file, load] of Object.entries(modules)) {
    if (!file.startsWith(root)) continue;
    const module = file.slice(root.length).replace(/\.[^./]+$/, "");
    if (module.startsWith("_generated/") || module === "schema" || module === "convex.config")
      continue;
    const exports = (await load()) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (module === "http" && name === "default" && isRouter(value)) {
        for (const [path, method, handler] of value.getRoutes()) {
          const marker = markerOf(handler);
          http.push({ method, path, ...(marker ? { marker } : {}) });
        }
        continue;
      }
      if (typeof value !== "function") continue;
      const f = value as Registered;
      const type = typeOf(f);
      if (type === undefined || !(f.isPublic || f.isInternal) || !f.exportArgs) continue;
      const marker = markerOf(value);
      functions.push({
        path: `${module}:${name}`,
        type,
        visibility: f.isPublic ? "public" : "internal",
        args: JSON.parse(f.exportArgs()) as ValidatorJSON,
        returns: f.exportReturns ? (JSON.parse(f.exportReturns()) as ValidatorJSON | null) : null,
        ...(marker ? { marker } : {}),
      });
    }
  }
  functions.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { functions, http };
}
