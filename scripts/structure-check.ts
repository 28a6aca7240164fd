/**
 * Layout rules the lint step holds for src/ (generated code aside): imports
 * only at the top, no cycle among runtime imports, and no runtime import path
 * from the host-side code (src/client, src/react) to component server code
 * (a module that imports _generated/server or _generated/api at runtime):
 * that would put it into every host bundle. The client checks a
 * call against the function's argument validator from the capability's
 * model.ts instead. Type-only imports are left out: Convex's generated api.ts
 * imports every module's types, and those vanish at build.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const root = resolve(import.meta.dirname, "..", "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "_generated" ? [] : sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Relative runtime imports of one file, resolved to .ts paths. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const targets: string[] = [];
  for (const statement of source.statements) {
    const isImport = ts.isImportDeclaration(statement);
    const isExport = ts.isExportDeclaration(statement);
    if (!isImport && !isExport) continue;
    if (isImport && statement.importClause?.isTypeOnly) continue;
    if (isExport && statement.isTypeOnly) continue;
    const specifier = statement.moduleSpecifier;
    if (specifier === undefined || !ts.isStringLiteral(specifier)) continue;
    if (!specifier.text.startsWith(".")) continue;
    const target = resolve(dirname(file), specifier.text).replace(/\.js$/, "");
    targets.push(/\.tsx?$/.test(target) ? target : `${target}.ts`);
  }
  return targets;
}

/** Import declarations that come after other statements (imports belong at the top). */
function lateImports(file: string): number {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  let seenCode = false;
  let late = 0;
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) late += seenCode ? 1 : 0;
    else if (!ts.isExportDeclaration(statement) || statement.moduleSpecifier === undefined)
      seenCode = true;
  }
  return late;
}

function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "visiting") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const files = sourceFiles(root);
const problems: string[] = [];
for (const file of files) {
  const late = lateImports(file);
  if (late > 0) problems.push(`${relative(root, file)}: ${late} import(s) after other statements`);
}
const graph = new Map(files.map((file) => [file, runtimeImports(file)]));
const cycle = findCycle(graph);
if (cycle) problems.push(`import cycle: ${cycle.map((f) => relative(root, f)).join(" -> ")}`);

/** The first runtime import path from `from` to a file `bad` accepts, or null. */
function pathTo(from: string, bad: (file: string) => boolean): string[] | null {
  const seen = new Set<string>([from]);
  const queue: string[][] = [[from]];
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const last = path[path.length - 1] ?? from;
    if (bad(last)) return path;
    for (const next of graph.get(last) ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push([...path, next]);
    }
  }
  return null;
}
// Server code: a module that registers functions (imports _generated/server) or
// names them to run or schedule them (imports _generated/api).
const serverModules = ["server.ts", "api.ts"].map((f) => join(root, "component", "_generated", f));
const isServerCode = (file: string) =>
  (graph.get(file) ?? []).some((target) => serverModules.includes(target));
for (const side of ["client", "react"]) {
  for (const file of files.filter((f) => f.startsWith(join(root, side)))) {
    const path = pathTo(file, isServerCode);
    if (path)
      problems.push(
        `host-side code imports component server code: ${path.map((f) => relative(root, f)).join(" -> ")}`,
      );
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(
  `structure: ${files.length} source files, no late import, no import cycle, no server module in host-side code`,
);
