import { join } from "node:path";
import ts from "typescript";
import { expect, test } from "vitest";

/**
 * What a user sees for a misspelled limit name: the compiler names the name
 * and the configured ones, instead of asking for an inline `config`.
 */
const root = join(import.meta.dirname, "..", "..");
const file = join(root, "test", "toolchain", "__limitName.ts");
const source = `
import { MINUTE, RateLimiter } from "convex-guard";
import type { GenericDataModel, GenericMutationCtx } from "convex/server";
import { components } from "../setup.js";
declare const ctx: GenericMutationCtx<GenericDataModel>;
const limiter = new RateLimiter(components.guard, {
  createPost: { kind: "sliding window", rate: 3, period: MINUTE },
  sendMessage: { kind: "token bucket", rate: 10, period: MINUTE },
});
void limiter.limit(ctx, "createPots", { key: "u1" });
`;

test("a misspelled limit name is a type error that names it", () => {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (config === undefined) throw new Error("tsconfig.json did not parse");
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === file
      ? ts.createSourceFile(name, source, language)
      : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], { ...config.options, noEmit: true }, host);
  const messages = ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  expect(messages).toHaveLength(1);
  expect(messages[0]).toContain(
    `Argument of type '"createPots"' is not assignable to parameter of type '"createPost" | "sendMessage"'`,
  );
}, 60_000);
