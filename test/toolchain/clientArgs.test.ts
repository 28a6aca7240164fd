// @vitest-environment node
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { argsValidatorJson, type ArgsValidator } from "../../src/client/checkArgs.js";
import * as accessFns from "../../src/component/access.js";
import * as apiKeyFns from "../../src/component/apiKeys.js";
import * as auditFns from "../../src/component/audit.js";
import * as codeFns from "../../src/component/codes.js";
import * as rateLimitFns from "../../src/component/rateLimits.js";
import { accessArgs } from "../../src/component/access/model.js";
import { apiKeyArgs } from "../../src/component/apiKeys/model.js";
import { auditArgs } from "../../src/component/audit/model.js";
import { codeArgs } from "../../src/component/codes/model.js";
import { rateLimitArgs } from "../../src/component/rateLimits/model.js";

/*
 * The client checks each call against a validator table from the capability's
 * model.ts (src/client/checkArgs.ts), not against the registered function
 * (importing those would put the component's server code in every host
 * bundle). These tests hold the table to the functions: each entry is what
 * the function itself gives Convex (`exportArgs()`), and each client call
 * pairs a function reference with that function's entry.
 */

type Table = Record<string, ArgsValidator>;
const capabilities: Record<string, { table: Table; module: Record<string, unknown> }> = {
  rateLimits: { table: rateLimitArgs, module: rateLimitFns },
  audit: { table: auditArgs, module: auditFns },
  codes: { table: codeArgs, module: codeFns },
  apiKeys: { table: apiKeyArgs, module: apiKeyFns },
  access: { table: accessArgs, module: accessFns },
};
const tableNames: Record<string, string> = {
  rateLimitArgs: "rateLimits",
  auditArgs: "audit",
  codeArgs: "codes",
  apiKeyArgs: "apiKeys",
  accessArgs: "access",
};

function exportedArgs(fn: unknown): unknown {
  if (typeof fn !== "object" && typeof fn !== "function") return undefined;
  if (fn === null || !("exportArgs" in fn) || typeof fn.exportArgs !== "function") return undefined;
  return JSON.parse(String(fn.exportArgs()));
}

describe("the client's argument validators are the component functions' own", () => {
  for (const [capability, { table, module }] of Object.entries(capabilities)) {
    test(`${capability}: each table entry equals the function's exportArgs()`, () => {
      for (const [name, validator] of Object.entries(table)) {
        expect({ name, args: argsValidatorJson(validator) }).toEqual({
          name,
          args: exportedArgs(module[name]),
        });
      }
    });
  }

  test("each client call checks against the entry of the function it calls", () => {
    const dir = fileURLToPath(new URL("../../src/client/", import.meta.url));
    // mutateComponent(ctx, <...>.<capability>.<fn>, <table>.<fn>, ...) and the
    // `assertArgs(<table>.<fn>, ...)` before a direct `ctx.runQuery` of the same function.
    const call = /(?:mutate|query)Component\(\s*\w+,\s*[\w.]*?\.(\w+)\.(\w+),\s*(\w+)\.(\w+),/g;
    const pairs: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(dir, file), "utf8");
      for (const m of text.matchAll(call)) {
        const [, capability, fn, table, entry] = m;
        pairs.push(`${file}: ${capability}.${fn} ~ ${table}.${entry}`);
        expect(`${capability}.${fn}`).toBe(`${tableNames[table ?? ""]}.${entry}`);
      }
      for (const m of text.matchAll(/assertArgs\((\w+)\.(\w+),/g)) {
        const [, table, entry] = m;
        const capability = tableNames[table ?? ""];
        expect(text).toContain(`component.${capability}.${entry}`);
      }
    }
    // Every door call was seen (a reformatted call the pattern misses would pass silently).
    const calls = readdirSync(dir)
      .filter((f) => f.endsWith(".ts") && f !== "checkArgs.ts")
      .map((f) => readFileSync(join(dir, f), "utf8").match(/(?:mutate|query)Component\(/g) ?? [])
      .flat().length;
    expect(pairs).toHaveLength(calls);
  });
});
