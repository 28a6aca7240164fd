/**
 * Every public function of the app, called by strangers: no identity, another
 * user with A's ids, another user naming A in its arguments, A after a delete,
 * and the HTTP routes without a key. No declarations are needed: the user
 * functions refuse, the API-key functions are known by their wrapper's marker.
 */
import { expect, test } from "vitest";
import { expectNoFindings, probeAccess } from "convex-guard/test";
import { modules, newApp } from "../harness.js";
import schema from "./schema.js";

test("probeAccess: no public function reaches another user's rows, and no anonymous caller reaches anything", async () => {
  const report = await probeAccess(newApp, { modules, schema });
  expectNoFindings(report);
  // The app's own creators made A's and B's rows: accounts, then messages.
  expect(new Set(report.setup.map((c) => c.function))).toEqual(
    new Set(["users:signUp", "messages:sendMessage"]),
  );
  expect(report.unprobed).toEqual([]);
  expect(report.http.map((r) => `${r.method} ${r.path}`)).toEqual([
    "POST /service/verify-password",
  ]);
  expect(report.unreachable).toContain("users:grantRole");
});
