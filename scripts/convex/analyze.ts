/**
 * What a Convex deployment's analyzer reports about a push request, computed
 * offline: every bundled module is written to a temporary folder and imported
 * in Node, and each exported registered function is read the way the backend
 * reads it (`isQuery`/`isMutation`/`isAction`, `isPublic`/`isInternal`,
 * `exportArgs()`, `exportReturns()`). Component definitions are evaluated
 * with their own `export()`, children first, so an app's `app.use(child)`
 * sees the child's `defineComponent` name, as on a deployment.
 *
 * Used by the loopback stand-in (`standin.ts`) to answer `start_push`, and by
 * the bundle check to tell function modules from helper modules.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

export type ModuleConfig = { path: string; source: string; environment: "isolate" | "node" };
type Definition = {
  definitionPath: string;
  definition: ModuleConfig | null;
  dependencies: string[];
  schema: ModuleConfig | null;
  modules: ModuleConfig[];
};
export type PushRequest = {
  appDefinition: {
    definition: ModuleConfig | null;
    dependencies: string[];
    schema: ModuleConfig | null;
    changedModules: ModuleConfig[];
    udfServerVersion: string;
  };
  componentDefinitions: Array<{
    definitionPath: string;
    definition: ModuleConfig;
    dependencies: string[];
    schema: ModuleConfig | null;
    functions: ModuleConfig[];
  }>;
};

export type AnalyzedFunction = {
  name: string;
  udfType: "Query" | "Mutation" | "Action";
  visibility: { kind: "public" | "internal" } | null;
  args: string | null;
  returns: string | null;
};
type ExportTree = {
  type: "branch";
  branch: Array<[string, ExportTree | { type: "leaf"; leaf: string }]>;
};
type DefinitionAnalysis = {
  definition: {
    path: string;
    definitionType: { type: "app" } | { type: "childComponent"; name: string; args: [] };
    childComponents: Array<{ name: string; path: string; args: []; env: unknown }>;
    httpMounts: Record<string, string>;
    exports: ExportTree;
  };
  schema: unknown;
  functions: Record<string, { functions: AnalyzedFunction[] }>;
  udfConfig: { serverVersion: string; importPhaseRngSeed: null; importPhaseUnixTimestamp: null };
};

/** Registered functions exported by one imported module, as the analyzer lists them. */
export function registeredFunctions(exports: Record<string, unknown>): AnalyzedFunction[] {
  const out: AnalyzedFunction[] = [];
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== "function" && (typeof value !== "object" || value === null)) continue;
    const f = value as Record<string, any>;
    const udfType = f.isQuery ? "Query" : f.isMutation ? "Mutation" : f.isAction ? "Action" : null;
    if (udfType === null) continue;
    const kind = f.isPublic ? "public" : f.isInternal ? "internal" : null;
    out.push({
      name,
      udfType,
      visibility: kind === null ? null : { kind },
      args: typeof f.exportArgs === "function" ? f.exportArgs() : null,
      returns: typeof f.exportReturns === "function" ? f.exportReturns() : null,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function definitions(request: PushRequest): Definition[] {
  const app = request.appDefinition;
  return [
    {
      definitionPath: "",
      definition: app.definition,
      dependencies: app.dependencies,
      schema: app.schema,
      modules: app.changedModules,
    },
    ...request.componentDefinitions.map((c) => ({ ...c, modules: c.functions })),
  ];
}

/** Children before parents, so each `_componentDeps` stub can carry the child's name. */
function ordered(defs: Definition[]): Definition[] {
  const byPath = new Map(defs.map((d) => [d.definitionPath, d]));
  const out: Definition[] = [];
  const visit = (d: Definition, depth: number) => {
    if (out.includes(d)) return;
    if (depth > defs.length)
      throw new Error(`analyze: component dependency cycle at ${d.definitionPath}`);
    for (const dep of d.dependencies) {
      const child = byPath.get(dep);
      if (!child)
        throw new Error(`analyze: ${d.definitionPath || "app"} depends on unknown ${dep}`);
      visit(child, depth + 1);
    }
    out.push(d);
  };
  for (const d of defs) visit(d, 0);
  return out;
}

function writeModule(dir: string, module: ModuleConfig, source = module.source): string {
  const file = join(dir, module.path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  return file;
}

/** Public functions as the component's export tree (what `ComponentApi` lists). */
function exportTree(functions: DefinitionAnalysis["functions"]): ExportTree {
  const root: ExportTree = { type: "branch", branch: [] };
  for (const [modulePath, module] of Object.entries(functions)) {
    const udfPath = modulePath.replace(/\.js$/, "");
    for (const f of module.functions) {
      if (f.visibility?.kind !== "public") continue;
      let node = root;
      for (const segment of udfPath.split("/")) {
        let next = node.branch.find(([name]) => name === segment)?.[1];
        if (!next) {
          next = { type: "branch", branch: [] };
          node.branch.push([segment, next]);
        }
        if (next.type !== "branch")
          throw new Error(`analyze: ${udfPath} collides with a function name`);
        node = next;
      }
      node.branch.push([
        f.name,
        { type: "leaf", leaf: `_reference/function/${udfPath}:${f.name}` },
      ]);
    }
  }
  return root;
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

async function analyzeDefinition(
  dir: string,
  def: Definition,
  names: Map<string, string>,
  serverVersion: string,
): Promise<DefinitionAnalysis> {
  const functions: DefinitionAnalysis["functions"] = {};
  for (const module of def.modules) writeModule(dir, module);
  for (const module of def.modules) {
    if (module.path.startsWith("_deps/")) continue;
    if (module.environment !== "isolate")
      throw new Error(`analyze: ${module.path} is a "use node" module`);
    functions[module.path] = {
      functions: registeredFunctions(await importModule(join(dir, module.path))),
    };
  }
  const schema = def.schema ? await importModule(writeModule(dir, def.schema)) : undefined;
  let exported: any = {
    childComponents: [],
    httpMounts: {},
    exports: { type: "branch", branch: [] },
  };
  if (def.definition) {
    // The bundler replaces `import child from ".../convex.config.js"` with an
    // import of `./_componentDeps/<base64url(definitionPath)>`; the backend
    // supplies that module. So do we, with the child's defineComponent name.
    const source = def.definition.source.replace(
      /(["'])\.\/_componentDeps\/([A-Za-z0-9_-]+)\1/g,
      (_m, quote: string, key: string) => {
        const path = Buffer.from(key, "base64url").toString("utf8");
        const name = names.get(path);
        if (name === undefined) throw new Error(`analyze: unknown child component ${path}`);
        const stub = { componentDefinitionPath: path, defaultName: name };
        writeModule(dir, {
          path: `_componentDeps/${key}.js`,
          source: `export default ${JSON.stringify(stub)};\n`,
          environment: "isolate",
        });
        return `${quote}./_componentDeps/${key}.js${quote}`;
      },
    );
    const module = await importModule(writeModule(dir, def.definition, source));
    exported = (module.default as { export(): any }).export();
    if (exported.name !== undefined) names.set(def.definitionPath, exported.name);
  }
  if (exported.exports.branch.length === 0) exported.exports = exportTree(functions);
  return {
    definition: {
      path: def.definitionPath,
      definitionType: def.definitionPath === "" ? { type: "app" } : exported.definitionType,
      childComponents: exported.childComponents,
      httpMounts: exported.httpMounts,
      exports: exported.exports,
    },
    schema:
      schema && typeof (schema.default as any)?.export === "function"
        ? JSON.parse((schema.default as any).export())
        : null,
    functions,
    udfConfig: { serverVersion, importPhaseRngSeed: null, importPhaseUnixTimestamp: null },
  };
}

/** The `analysis` map of a `start_push` response, keyed by component definition path ("" is the app). */
export async function analyze(
  request: PushRequest,
  workDir: string,
): Promise<Record<string, DefinitionAnalysis>> {
  writeFileSync(join(workDir, "package.json"), '{"type":"module"}\n');
  const names = new Map<string, string>();
  const out: Record<string, DefinitionAnalysis> = {};
  const defs = ordered(definitions(request));
  for (const [i, def] of defs.entries()) {
    out[def.definitionPath] = await analyzeDefinition(
      join(workDir, `def${i}`),
      def,
      names,
      request.appDefinition.udfServerVersion,
    );
  }
  return out;
}
