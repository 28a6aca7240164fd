// @vitest-environment node
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, test } from "vitest";
import { compilerOptions } from "../../scripts/convex/compareTypes.js";

/*
 * A host may compile with exactOptionalPropertyTypes, where an optional field
 * cannot hold `undefined`; a hand-written sink type once made a typed
 * AuditLog unacceptable to Confirmations there. This compiles the sink type
 * test as such a host does, and reports the test file's own errors (a host
 * sees our declarations, not our sources' diagnostics).
 */
test("a typed AuditLog is an AuditSink under exactOptionalPropertyTypes", () => {
  const file = fileURLToPath(new URL("./auditSink.test-d.ts", import.meta.url));
  const options = compilerOptions(fileURLToPath(new URL("./tsconfig.exact.json", import.meta.url)));
  expect(options.exactOptionalPropertyTypes).toBe(true);
  const program = ts.createProgram([file], options);
  const source = program.getSourceFile(file)!;
  const errors = [
    ...program.getSyntacticDiagnostics(source),
    ...program.getSemanticDiagnostics(source),
  ].map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  expect(errors).toEqual([]);
}, 120_000);
