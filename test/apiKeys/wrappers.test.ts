import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { convexTest } from "convex-test";
import { makeFunctionReference, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { ApiKeys, isApiKeyDenial } from "../../src/client/apiKeys.js";
import { MINUTE } from "../../src/component/lib/time.js";
import { register } from "../../src/test.js";
import { components } from "../setup.js";
import { OWNER, SCOPES, useClock, wrongSecret } from "./helpers.js";

beforeEach(useClock);
afterEach(() => vi.useRealTimers());

const events: { action: string; reason?: string }[] = [];
const keys = new ApiKeys(components.guard, {
  prefix: "sk_test",
  scopes: SCOPES,
  limit: { kind: "token bucket", rate: 5, period: MINUTE },
  audit: { log: async (_ctx, e) => events.push({ action: e.action, reason: e.reason }) },
});
const serviceMutation = keys.mutation(mutationGeneric, { scope: "orders:write" });
const serviceQuery = keys.query(queryGeneric, { scope: "orders:read" });

// A host app's functions, built with the wrappers.
const createOrder = serviceMutation({
  args: { item: v.string() },
  returns: v.object({ item: v.string(), by: v.string(), sawKey: v.boolean() }),
  handler: async (ctx, args) => ({
    item: args.item,
    by: ctx.apiKey.name,
    sawKey: "apiKey" in args,
  }),
});
const whoAmI = serviceQuery({
  args: {},
  handler: async (ctx) => ({
    keyId: ctx.apiKey.keyId,
    owner: ctx.apiKey.owner,
    scopes: ctx.apiKey.scopes,
  }),
});
const makeKey = mutationGeneric({
  args: { scopes: v.array(v.string()) },
  handler: async (ctx, { scopes }) =>
    keys.create(ctx, { name: "worker", owner: OWNER, scopes: scopes as never }),
});
const http = keys.httpAction(
  async (_ctx, request, apiKey) =>
    new Response(`hello ${apiKey.name} ${new URL(request.url).pathname}`),
  {
    scope: "orders:read",
  },
);

function host() {
  const t = convexTest(undefined, {
    "./host/_generated/api.ts": async () => ({}),
    "./host/service.ts": async () => ({ createOrder, whoAmI, makeKey, http }),
  });
  register(t);
  return t;
}
const api = {
  createOrder: makeFunctionReference<"mutation">("service:createOrder"),
  whoAmI: makeFunctionReference<"query">("service:whoAmI"),
  makeKey: makeFunctionReference<"mutation">("service:makeKey"),
};

describe("function wrappers", () => {
  test("a valid key runs the handler with ctx.apiKey and without the key in args", async () => {
    const t = host();
    const { key, keyId } = await t.mutation(api.makeKey, {
      scopes: ["orders:read", "orders:write"],
    });
    expect(await t.mutation(api.createOrder, { apiKey: key, item: "tea" })).toEqual({
      item: "tea",
      by: "worker",
      sawKey: false,
    });
    expect(await t.query(api.whoAmI, { apiKey: key })).toEqual({
      keyId,
      owner: OWNER,
      scopes: ["orders:read", "orders:write"],
    });
  });

  test("a refused key returns the denial instead of running the handler, and the denial persists", async () => {
    const t = host();
    events.length = 0;
    const { key } = await t.mutation(api.makeKey, { scopes: ["orders:read"] });
    const scope = await t.mutation(api.createOrder, { apiKey: key, item: "tea" });
    expect(scope).toEqual({ ok: false, reason: "scope" });
    expect(isApiKeyDenial(scope)).toBe(true);
    expect(await t.mutation(api.createOrder, { apiKey: wrongSecret(key), item: "tea" })).toEqual({
      ok: false,
      reason: "unknown",
    });
    expect(await t.mutation(api.createOrder, { apiKey: "nope", item: "tea" })).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(await t.query(api.whoAmI, { apiKey: "nope" })).toEqual({
      ok: false,
      reason: "malformed",
    });
    // The denials' audit events committed with the (normally returning) mutation.
    expect(events.filter((e) => e.action === "guard.apiKey.deny").map((e) => e.reason)).toEqual([
      "scope",
      "wrong_secret",
    ]);
  });

  test("the per-key limit applies to wrapped mutations", async () => {
    const t = host();
    const { key } = await t.mutation(api.makeKey, { scopes: ["orders:write"] });
    for (let i = 0; i < 5; i++)
      expect(await t.mutation(api.createOrder, { apiKey: key, item: "x" })).toMatchObject({
        item: "x",
      });
    expect(await t.mutation(api.createOrder, { apiKey: key, item: "x" })).toMatchObject({
      ok: false,
      reason: "rate_limited",
    });
  });

  test("wrappers refuse definitions that declare apiKey themselves or use an undeclared scope", () => {
    expect(() =>
      serviceMutation({ args: { apiKey: v.string() }, handler: async () => null }),
    ).toThrow(/apiKey/);
    expect(() =>
      keys.mutation(mutationGeneric, { scope: "nope" as never })({
        args: {},
        handler: async () => null,
      }),
    ).toThrow(/unknown scope/);
  });
});

describe("httpAction", () => {
  test("answers 200 for a valid key, 401/403/429 otherwise, with no detail", async () => {
    const t = host();
    // convex-test routes t.fetch through an app's http.ts router; this calls the registered handler itself.
    const invoke = async (authorization?: string) => {
      const request = new Request("https://example.test/orders", {
        headers: authorization === undefined ? {} : { authorization },
      });
      return t.action(async (ctx) => {
        const r: Response = await (http as any)._handler(ctx, request);
        return {
          status: r.status,
          body: await r.text(),
          retryAfter: r.headers.get("retry-after"),
          www: r.headers.get("www-authenticate"),
        };
      });
    };
    const { key } = await t.mutation(api.makeKey, { scopes: ["orders:read"] });
    const { key: writer } = await t.mutation(api.makeKey, { scopes: ["orders:write"] });
    expect(await invoke(`Bearer ${key}`)).toMatchObject({
      status: 200,
      body: "hello worker /orders",
    });
    const unauthorized = { status: 401, body: JSON.stringify({ error: "unauthorized" }) };
    for (const h of [
      undefined,
      "",
      "Bearer",
      "Basic abc",
      `Bearer ${wrongSecret(key)}`,
      `Bearer ${key}x`,
      `Token ${key}`,
      "Bearer " + "x".repeat(600),
    ]) {
      expect(await invoke(h), String(h)).toMatchObject(unauthorized);
    }
    expect((await invoke(undefined)).www).toMatch(/^Bearer/);
    expect(await invoke(`Bearer ${writer}`)).toMatchObject({
      status: 403,
      body: JSON.stringify({ error: "forbidden" }),
    });
    for (let i = 0; i < 4; i++) await invoke(`Bearer ${key}`);
    const limited = await invoke(`Bearer ${key}`);
    expect(limited).toMatchObject({ status: 429, body: JSON.stringify({ error: "rate_limited" }) });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
