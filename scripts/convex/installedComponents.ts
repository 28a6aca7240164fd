/**
 * The components an app's `convex.config.ts` installs, read with the
 * TypeScript compiler API the way the Convex CLI names them: `app.use(x,
 * { name })` uses `name`; otherwise the name the component's own
 * `defineComponent("...")` gives, read from the package's definition file
 * (resolved through the app's tsconfig, then its compiled `.js` sibling).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import ts from "typescript";

export type InstalledComponent = { name: string; from: string };

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

function calleeName(call: ts.CallExpression): string | undefined {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

/** `defineComponent("name")` in a component's definition file. */
export function componentName(definitionFile: string): string {
  let name: string | undefined;
  walk(parse(definitionFile), (n) => {
    if (name === undefined && ts.isCallExpression(n) && calleeName(n) === "defineComponent") {
      const arg = n.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) name = arg.text;
    }
  });
  if (name === undefined)
    throw new Error(`${definitionFile}: no defineComponent("name") call found`);
  return name;
}

function definitionFile(specifier: string, fromFile: string, options: ts.CompilerOptions): string {
  const resolved = ts.resolveModuleName(specifier, fromFile, options, ts.sys).resolvedModule
    ?.resolvedFileName;
  if (!resolved) throw new Error(`${fromFile}: cannot resolve "${specifier}"`);
  const js = resolved.replace(/\.d\.ts$/, ".js");
  return resolved.endsWith(".d.ts") && existsSync(js) ? js : resolved;
}

function compilerOptionsFor(dir: string): ts.CompilerOptions {
  const config = ts.findConfigFile(dir, ts.sys.fileExists);
  if (!config)
    return { moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext };
  const read = ts.readConfigFile(config, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(config)).options;
}

export function installedComponents(configPath: string): InstalledComponent[] {
  const source = parse(configPath);
  const imports = new Map<string, string>();
  const apps = new Set<string>();
  for (const statement of source.statements) {
    if (
      ts.isImportDeclaration(statement) &&
      statement.importClause?.name &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      imports.set(statement.importClause.name.text, statement.moduleSpecifier.text);
    }
  }
  walk(source, (n) => {
    if (
      ts.isVariableDeclaration(n) &&
      ts.isIdentifier(n.name) &&
      n.initializer &&
      ts.isCallExpression(n.initializer)
    ) {
      if (calleeName(n.initializer) === "defineApp") apps.add(n.name.text);
    }
  });
  const options = compilerOptionsFor(dirname(configPath));
  const out: InstalledComponent[] = [];
  walk(source, (n) => {
    if (!ts.isCallExpression(n) || !ts.isPropertyAccessExpression(n.expression)) return;
    const target = n.expression.expression;
    if (n.expression.name.text !== "use" || !ts.isIdentifier(target) || !apps.has(target.text))
      return;
    const [definition, opts] = n.arguments;
    const where = `${configPath}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    if (!definition || !ts.isIdentifier(definition) || !imports.has(definition.text)) {
      throw new Error(`${where}: app.use() needs a component definition imported by default`);
    }
    const specifier = imports.get(definition.text)!;
    let name: string | undefined;
    if (opts) {
      const prop = ts.isObjectLiteralExpression(opts)
        ? opts.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === "name")
        : undefined;
      if (prop && !(ts.isPropertyAssignment(prop) && ts.isStringLiteralLike(prop.initializer))) {
        throw new Error(`${where}: the component's name must be a string literal`);
      }
      if (!ts.isObjectLiteralExpression(opts))
        throw new Error(`${where}: app.use() options must be an object literal`);
      if (prop && ts.isPropertyAssignment(prop) && ts.isStringLiteralLike(prop.initializer))
        name = prop.initializer.text;
    }
    name ??= componentName(definitionFile(specifier, configPath, options));
    const from = specifier.replace(/\/convex\.config(\.[cm]?[jt]s)?$/, "");
    // `_generated/api.ts` sits one folder below the config it is generated for.
    out.push({ name, from: from.startsWith(".") ? `../${from}` : from });
  });
  return out;
}
