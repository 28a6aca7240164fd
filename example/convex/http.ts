/**
 * The HTTP API for the app's trusted login server (for example the service
 * that signs your users' JWTs and wants to check a password). It
 * authenticates with its own API key, which a superadmin created
 * (apiKeys.ts), and needs the "login:verify" scope. Each key has its own rate
 * limit (30 calls a minute) and every refused key is audited.
 *
 *   POST /service/verify-password
 *   Authorization: Bearer sk_example_...
 *   {"email": "...", "password": "..."}
 */
import { httpRouter } from "convex/server";
import { internal } from "./_generated/api.js";
import { normalizeEmail } from "./lib/accounts.js";
import { serviceKeys } from "./lib/guard.js";

const http = httpRouter();

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

const MAX_EMAIL_BYTES = 254;
const MAX_PASSWORD_LENGTH = 256;
const MAX_BODY_BYTES = 4096;

/**
 * The request's email (normalized) and password, or null for anything else:
 * a body that is not a JSON object (`null`, an array, a string), a missing,
 * empty or whitespace-only email, an email over 254 bytes AFTER normalizing
 * (lower-casing "İ" turns 2 bytes into 3, so 127 of them pass a check on the
 * raw input and then overflow every key derived from it), a missing or
 * oversized password.
 */
async function credentials(request: Request): Promise<{ email: string; password: string } | null> {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return null;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const { email, password } = body as { email?: unknown; password?: unknown };
  if (typeof email !== "string" || typeof password !== "string") return null;
  const normalized = normalizeEmail(email);
  if (normalized.length === 0 || new TextEncoder().encode(normalized).length > MAX_EMAIL_BYTES)
    return null;
  if (password.length === 0 || password.length > MAX_PASSWORD_LENGTH) return null;
  return { email: normalized, password };
}

http.route({
  path: "/service/verify-password",
  method: "POST",
  // 401 / 403 / 429 for a missing, wrong, revoked, unscoped or rate-limited key, before the body is read.
  handler: serviceKeys.httpAction(
    async (ctx, request, apiKey) => {
      const input = await credentials(request);
      if (input === null) return json(400, { error: "invalid_argument" });
      const result = await ctx.runMutation(internal.login.verifyPassword, {
        ...input,
        caller: { keyId: apiKey.keyId, name: apiKey.name },
      });
      return json(200, result);
    },
    { scope: "login:verify" },
  ),
});

export default http;
