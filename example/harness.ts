/// <reference types="vite/client" />
/**
 * Runs the example app in convex-test (the embedded Convex runtime) with
 * convex-guard registered, for the tests in example/convex and for
 * `npm run demo`. Nothing here is deployed.
 */
import "./testEnv.js";
import { convexTest } from "convex-test";
import { register } from "convex-guard/test";
import { api, internal } from "./convex/_generated/api.js";
import type { Doc, Id } from "./convex/_generated/dataModel.js";
import { devOutbox } from "./convex/lib/delivery.js";
import schema from "./convex/schema.js";
import { modules } from "./modules.js";

export { modules };

export type App = ReturnType<typeof newApp>;

export function newApp() {
  const t = convexTest(schema, modules);
  register(t as never);
  return t;
}

/** The identity an auth provider would sign for `handle`. */
export function identityOf(handle: string) {
  return {
    issuer: "https://auth.example.com",
    subject: handle,
    tokenIdentifier: `https://auth.example.com|${handle}`,
    name: handle,
    email: `${handle}@example.com`,
    emailVerified: true,
  };
}

/** Signs `handle` up (and grants `role` through the service-only path); returns a client acting as them. */
export async function addUser(t: App, handle: string, role: Doc<"users">["role"] = "user") {
  const as = t.withIdentity(identityOf(handle));
  const id: Id<"users"> = await as.mutation(api.users.signUp, { name: handle });
  if (role !== "user")
    await t.mutation(internal.users.grantRole, { email: `${handle}@example.com`, role });
  return { id, as, email: `${handle}@example.com` };
}

/** The last code delivered to `email` through the development outbox ("out of band"). */
export function lastDeliveredCode(email: string): string | undefined {
  for (let i = devOutbox.length - 1; i >= 0; i--) {
    const sent = devOutbox[i];
    if (sent?.to !== email) continue;
    return /code .* is ([0-9A-Za-z]+)\./.exec(sent.text)?.[1];
  }
  return undefined;
}

/** What `p` was rejected with: the error's `data` (a guard error's `{ code, message }`), else its text; "resolved" if it was not. */
export async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return (e as { data?: unknown }).data ?? String(e);
  }
  return "resolved";
}

/** Runs `fn` inside the guard component's own tables (to inspect or, in demos, to tamper). */
export async function runInGuard<T>(t: App, fn: (ctx: any) => Promise<T>): Promise<T> {
  return (
    t as unknown as { runInComponent: (name: string, f: typeof fn) => Promise<T> }
  ).runInComponent("guard", fn);
}

/** A service API key, created by `admin` (a superadmin) through the app's admin function. */
export async function serviceKey(
  admin: { as: { mutation: App["mutation"] } },
  name: string,
  scopes: ("login:verify" | "messages:moderate")[],
): Promise<{ keyId: string; key: string }> {
  return admin.as.mutation(api.apiKeys.createKey, { name, scopes });
}
