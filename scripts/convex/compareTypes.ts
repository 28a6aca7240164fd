/**
 * Compares two sets of `_generated/` files by the types they export, not by
 * their text, so formatting and the way a type is spelled do not matter but
 * every difference a caller could observe does.
 *
 * One TypeScript program loads both sets. Each export (a value's type, or a
 * type alias instantiated with `any` for every parameter) is walked: objects
 * that are API trees (`api`, `internal`, `components`, `ComponentApi`) are
 * descended into, and every function reference is compared on its kind,
 * visibility, arguments and return type. Two types are equal when each is
 * assignable to the other and neither is `any` alone. A difference is
 * reported with the function's path, e.g. `component.ts ComponentApi
 * rateLimits.limit: returns differ`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import ts from "typescript";

export type FilePair = { name: string; committed?: string; official?: string };

const MAX_DEPTH = 8;

function printed(checker: ts.TypeChecker, type: ts.Type): string {
  const text = checker.typeToString(
    type,
    undefined,
    ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias,
  );
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

function isAny(type: ts.Type): boolean {
  return (type.flags & ts.TypeFlags.Any) !== 0;
}

function sameType(checker: ts.TypeChecker, a: ts.Type, b: ts.Type): boolean {
  if (isAny(a) !== isAny(b)) return false;
  return checker.isTypeAssignableTo(a, b) && checker.isTypeAssignableTo(b, a);
}

function prop(checker: ts.TypeChecker, type: ts.Type, name: string): ts.Type | undefined {
  const symbol = checker.getPropertyOfType(type, name);
  return symbol ? checker.getTypeOfSymbol(symbol) : undefined;
}

function isFunctionReference(checker: ts.TypeChecker, type: ts.Type): boolean {
  return ["_type", "_visibility", "_args", "_returnType"].every((p) =>
    checker.getPropertyOfType(type, p),
  );
}

/** Objects worth descending into: plain property bags, not callables or primitives. */
function isTree(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (isAny(type) || !(type.flags & ts.TypeFlags.Object)) return false;
  if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) return false;
  return checker.getPropertiesOfType(type).length > 0;
}

function compare(
  checker: ts.TypeChecker,
  where: string,
  a: ts.Type,
  b: ts.Type,
  depth: number,
  out: string[],
): void {
  if (isFunctionReference(checker, a) && isFunctionReference(checker, b)) {
    for (const [part, label] of [
      ["_type", "kind"],
      ["_visibility", "visibility"],
      ["_args", "args"],
      ["_returnType", "returns"],
    ] as const) {
      const pa = prop(checker, a, part)!;
      const pb = prop(checker, b, part)!;
      if (!sameType(checker, pa, pb)) {
        out.push(
          `${where}: ${label} differ\n    committed: ${printed(checker, pa)}\n    official:  ${printed(checker, pb)}`,
        );
      }
    }
    return;
  }
  if (depth < MAX_DEPTH && isTree(checker, a) && isTree(checker, b)) {
    const props = (t: ts.Type) => new Map(checker.getPropertiesOfType(t).map((s) => [s.name, s]));
    const pa = props(a);
    const pb = props(b);
    for (const n of pa.keys())
      if (!pb.has(n)) out.push(`${where}.${n}: only in the committed file`);
    for (const n of pb.keys())
      if (!pa.has(n)) out.push(`${where}.${n}: missing from the committed file`);
    for (const n of [...pa.keys()].filter((n) => pb.has(n)).sort()) {
      const ta = checker.getTypeOfSymbol(pa.get(n)!);
      const tb = checker.getTypeOfSymbol(pb.get(n)!);
      compare(checker, `${where}.${n}`, ta, tb, depth + 1, out);
    }
    return;
  }
  if (!sameType(checker, a, b)) {
    out.push(
      `${where}: types differ\n    committed: ${printed(checker, a)}\n    official:  ${printed(checker, b)}`,
    );
  }
}

type ExportInfo = { kind: "value" | "type"; arity: number };

/** A generated file's exports, read from its syntax (generated files declare them all inline). */
function exportsOf(file: string): Map<string, ExportInfo> {
  const out = new Map<string, ExportInfo>();
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const exported = (n: ts.Node) =>
    ts.canHaveModifiers(n) &&
    (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const statement of source.statements) {
    if (!exported(statement)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        if (ts.isIdentifier(d.name)) out.set(d.name.text, { kind: "value", arity: 0 });
      }
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) &&
      statement.name
    ) {
      out.set(statement.name.text, { kind: "value", arity: 0 });
    } else if (ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement)) {
      out.set(statement.name.text, { kind: "type", arity: statement.typeParameters?.length ?? 0 });
    }
  }
  return out;
}

function program(files: string[], options: ts.CompilerOptions): ts.Program {
  return ts.createProgram(files, { ...options, noEmit: true, skipLibCheck: true });
}

/** Differences between committed and official generated files, one message per difference. */
export function compareGenerated(
  pairs: FilePair[],
  probeDir: string,
  options: ts.CompilerOptions,
): string[] {
  const out: string[] = [];
  const present = pairs.filter((p) => {
    if (!p.committed) out.push(`${p.name}: the official CLI generates it; it is not committed`);
    else if (!p.official)
      out.push(`${p.name}: committed, but the official CLI does not generate it`);
    return p.committed && p.official;
  });
  if (present.length === 0) return out;
  const all = present.flatMap((p) => [p.committed!, p.official!]);
  const probe: string[] = [];
  const probes: Array<{ where: string; c: string; o: string }> = [];
  for (const [i, p] of present.entries()) {
    const c = exportsOf(p.committed!);
    const o = exportsOf(p.official!);
    const spec = (f: string) => JSON.stringify(f.replace(/\.ts$/, ".js"));
    probe.push(
      `import type * as C${i} from ${spec(p.committed!)};`,
      `import type * as O${i} from ${spec(p.official!)};`,
    );
    for (const name of [...new Set([...c.keys(), ...o.keys()])].sort()) {
      const ci = c.get(name);
      const oi = o.get(name);
      if (!ci || !oi) {
        out.push(
          `${p.name} ${name}: ${ci ? "only in the committed file" : "missing from the committed file"}`,
        );
        continue;
      }
      if (ci.kind !== oi.kind || ci.arity !== oi.arity) {
        out.push(
          `${p.name} ${name}: committed as a ${ci.kind}/${ci.arity}, official as a ${oi.kind}/${oi.arity}`,
        );
        continue;
      }
      const args = oi.arity ? `<${Array(oi.arity).fill("any").join(", ")}>` : "";
      const id = `P${probes.length}`;
      const ref = (ns: string) =>
        oi.kind === "value" ? `typeof ${ns}${i}.${name}` : `${ns}${i}.${name}${args}`;
      probe.push(`export type ${id}C = ${ref("C")};`, `export type ${id}O = ${ref("O")};`);
      probes.push({ where: `${p.name} ${name}`, c: `${id}C`, o: `${id}O` });
    }
  }
  const probeFile = join(probeDir, "generated-types-probe.ts");
  writeFileSync(probeFile, `${probe.join("\n")}\n`);
  const checked = program([...all, probeFile], options);
  // Only the probe: the generated files themselves are typechecked by `npm run typecheck`.
  const errors = ts
    .getPreEmitDiagnostics(checked, checked.getSourceFile(probeFile))
    .filter((d) => d.category === ts.DiagnosticCategory.Error);
  for (const d of errors.slice(0, 20)) {
    const file = d.file ? basename(d.file.fileName) : "";
    out.push(`typecheck ${file}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  }
  const checker = checked.getTypeChecker();
  const source = checked.getSourceFile(probeFile)!;
  const aliases = new Map<string, ts.Type>();
  for (const statement of source.statements) {
    if (ts.isTypeAliasDeclaration(statement)) {
      aliases.set(statement.name.text, checker.getTypeAtLocation(statement.name));
    }
  }
  for (const p of probes) compare(checker, p.where, aliases.get(p.c)!, aliases.get(p.o)!, 0, out);
  return out;
}

/** Top-level keys of a component's `ComponentApi`: the modules hosts can call. */
export function componentApiModules(
  componentTs: string,
  options: ts.CompilerOptions,
  probeDir: string,
): string[] {
  const probeFile = join(probeDir, "component-api-probe.ts");
  writeFileSync(
    probeFile,
    `import type { ComponentApi } from ${JSON.stringify(componentTs.replace(/\.ts$/, ".js"))};\nexport type Api = ComponentApi<"guard">;\n`,
  );
  const p = program([probeFile], options);
  const checker = p.getTypeChecker();
  const alias = p.getSourceFile(probeFile)!.statements.find(ts.isTypeAliasDeclaration)!;
  return checker
    .getPropertiesOfType(checker.getTypeAtLocation(alias.name))
    .map((s) => s.name)
    .sort();
}

/** Compiler options of a tsconfig.json, for loading generated files the way the repository does. */
export function compilerOptions(tsconfig: string): ts.CompilerOptions {
  const read = ts.readConfigFile(tsconfig, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, join(tsconfig, "..")).options;
}
