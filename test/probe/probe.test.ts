/**
 * probeAccess on the fixture app (test/probe/fixture): every deliberately
 * broken function is flagged with its kind, and no correct twin is.
 */
import { makeFunctionReference } from "convex/server";
import { beforeAll, describe, expect, test } from "vitest";
import {
  expectNoFindings,
  probeAccess,
  type ProbeOptions,
  type ProbeReport,
} from "convex-guard/test";
import { fixtureApp, modules, schema } from "./fixture/app.js";

/** What the app declares: the probe reads these as intended, not as findings. */
const expectations: ProbeOptions["expect"] = {
  "posts:frontPage": "anonymous",
  "comments:listForPost": "shared",
  "service:countPostsOpen": "service",
};

/** A's and B's secrets: no public mutation makes them. */
const seed: ProbeOptions["seed"] = async ({ t, a, b }) => {
  for (const user of [a, b]) {
    const [owner] = user.ids("users");
    const text = user.canary();
    if (owner !== undefined) await t.run((ctx) => ctx.db.insert("secrets", { owner, text }));
  }
};

const options: ProbeOptions = {
  modules,
  schema,
  expect: expectations,
  seed,
  skip: ["service:notifyOutside"],
};

/** The fixture's broken functions and the one kind each must be flagged with. */
const BROKEN = {
  "posts:getLeaky": "cross_user_read",
  "posts:updateLeaky": "cross_user_write",
  "posts:getAnon": "anonymous_access",
  "posts:getTitle": "existence_leak",
  "posts:listByOwner": "identity_from_argument",
  "posts:summaryStale": "use_after_delete",
  "comments:addUnchecked": "use_after_delete",
  "comments:editInPostSwap": "parent_swap",
  "notes:listFor": "identity_from_argument",
  "notes:createFor": "identity_from_argument",
  "secrets:peek": "cross_user_read",
  "users:allNames": "cross_user_read",
  "service:countPostsOpen": "anonymous_access",
  "service:postCountOpen": "anonymous_access",
  "GET /export": "anonymous_access",
};

let report: ProbeReport;
beforeAll(async () => {
  report = await probeAccess(fixtureApp, options);
});

describe("probeAccess on the fixture", () => {
  test("every broken function is flagged with its kind, and no correct twin is", () => {
    const flagged = Object.fromEntries(report.findings.map((f) => [f.function, f.kind]));
    expect(flagged).toEqual(BROKEN);
    expect(report.findings).toHaveLength(Object.keys(BROKEN).length);
  });

  test("internal functions are unreachable, skipped ones listed, HTTP routes probed", () => {
    expect(report.unreachable).toEqual(["posts:purgeAll"]);
    expect(report.skipped).toEqual(["service:notifyOutside"]);
    expect(report.http.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /export", "GET /health"]);
    expect(report.functions).toBe(33);
    expect(report.unprobed).toEqual([]);
  });

  test("the setup is the app's own creators, as A and as B", () => {
    const made = report.setup.map((c) => `${c.identity?.subject} ${c.function}`);
    // In passes: a post needs an account, a comment needs a post.
    expect(made).toEqual([
      "probe-user-a notes:create",
      "probe-user-b notes:create",
      "probe-user-a users:signUp",
      "probe-user-b users:signUp",
      "probe-user-a posts:create",
      "probe-user-b posts:create",
      "probe-user-a comments:add",
      "probe-user-b comments:add",
      "probe-user-a comments:addUnchecked",
      "probe-user-b comments:addUnchecked",
    ]);
  });

  test("a finding replays: the setup calls, then its repro, show the same leak", async () => {
    const t = fixtureApp();
    const as = (identity: object | null) => (identity === null ? t : t.withIdentity(identity));
    for (const c of report.setup)
      await as(c.identity).mutation(makeFunctionReference<"mutation">(c.function), c.args);
    const finding = report.findings.find((f) => f.function === "posts:getLeaky");
    if (finding === undefined) throw new Error("posts:getLeaky not flagged");
    const { identity, function: path, args } = finding.repro;
    const post = await as(identity).query(makeFunctionReference<"query">(path), args);
    expect(finding.detail).toContain((post as { body: string }).body);
  });

  test("expectNoFindings fails with one block per finding: function, kind, detail, replay", () => {
    let message = "";
    try {
      expectNoFindings(report);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^probeAccess: 15 finding\(s\) in 33 public functions\n/);
    expect(message).toMatch(
      /\n {2}posts:getLeaky {2}cross_user_read\n {4}B called it with A's ids and got A's probeA\d+x.*\n {4}replay {2}B: posts:getLeaky \{"postId":"\w+"\}\n/,
    );
    expect(message).toMatch(
      /\n {4}first {3}A: posts:remove \{"postId":"\w+"\}\n {4}replay {2}A: posts:summaryStale/,
    );
    expectNoFindings({ ...report, findings: [] });
  });
});

describe("declarations and seeds", () => {
  test("without declarations, the public front page, the shared comments and the open service count are findings", async () => {
    const r = await probeAccess(fixtureApp, {
      modules,
      schema,
      only: ["posts:frontPage", "comments:listForPost", "service:countPostsOpen", "GET /export"],
    });
    const flagged = r.findings.map((f) => `${f.function} ${f.kind}`);
    expect(flagged).toEqual([
      "comments:listForPost cross_user_read",
      "posts:frontPage anonymous_access",
      "posts:frontPage cross_user_read",
      "GET /export anonymous_access",
    ]);
    // countPostsOpen answers without a canary or a write: only its "service" declaration makes it a finding.
  });

  test("without a seed, a table no public mutation fills is reported unprobed, not clean by accident", async () => {
    const r = await probeAccess(fixtureApp, { modules, schema, only: ["secrets:peek"] });
    expect(r.findings.filter((f) => f.function === "secrets:peek")).toEqual([]);
    expect(r.unprobed).toEqual([
      {
        function: "secrets:peek",
        reason: "A has no secrets row to pass: no public mutation made one; add a seed",
      },
    ]);
  });

  test("deterministic: the same app probes to the same findings", async () => {
    const subset = {
      modules,
      schema,
      seed,
      only: ["posts:getLeaky", "secrets:peek", "GET /export"],
    };
    const [one, two] = [
      await probeAccess(fixtureApp, subset),
      await probeAccess(fixtureApp, subset),
    ];
    expect(two.findings).toEqual(one.findings);
    expect(one.findings.map((f) => f.function)).toEqual([
      "posts:getLeaky",
      "secrets:peek",
      "GET /export",
    ]);
  });

  test("one instance instead of a factory: probes share its state, and still find the leak", async () => {
    const r = await probeAccess(fixtureApp(), {
      modules,
      schema,
      only: ["posts:getLeaky", "posts:updateLeaky", "posts:update"],
    });
    expect(r.findings.map((f) => `${f.function} ${f.kind}`)).toEqual([
      "posts:getLeaky cross_user_read",
      "posts:updateLeaky cross_user_write",
    ]);
  });
});
