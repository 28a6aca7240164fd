/**
 * The HTTP API for a trusted server (for example the service that signs your
 * users' JWTs and wants to check a password). It authenticates with a shared
 * secret, compared in constant time, and is rate-limited per caller.
 *
 *   POST /service/verify-password
 *   Authorization: Bearer <SERVICE_SECRET>
 *   X-Service-Name: login-server
 *   {"email": "...", "password": "..."}
 */
import { httpRouter } from "convex/server";
import { internal } from "./_generated/api.js";
import { httpAction } from "./_generated/server.js";
import { secretsEqual } from "./lib/passwords.js";

const http = httpRouter();

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * Below this the secret could be guessed, and no rate limit prevents that: a
 * right guess is admitted under its caller's own window, so the answers tell
 * a guesser when they are right however slowly wrong guesses are served.
 */
const MIN_SECRET_BYTES = 32;

/**
 * The shared secret: `npx convex env set SERVICE_SECRET $(openssl rand -hex 32)`.
 * Unset or shorter than 32 bytes means every call is refused.
 */
function serviceSecret(): string {
  const secret = process.env.SERVICE_SECRET ?? "";
  return new TextEncoder().encode(secret).length >= MIN_SECRET_BYTES ? secret : "";
}

const VERIFY_PATH = "/service/verify-password";

http.route({
  path: VERIFY_PATH,
  method: "POST",
  handler: httpAction(async (ctx, request) => {
    const rawName = request.headers.get("x-service-name") ?? "";
    const caller = /^[a-z0-9][a-z0-9-]{0,63}$/.test(rawName) ? rawName : "unnamed";
    const auth = request.headers.get("authorization") ?? "";
    const given = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : "";
    const expected = serviceSecret();
    const authenticated = expected.length > 0 && (await secretsEqual(given, expected));

    const admission = await ctx.runMutation(internal.service.admit, {
      caller,
      authenticated,
      path: VERIFY_PATH,
    });
    if (!admission.ok) {
      if (admission.reason === "rate_limited") {
        const seconds = Math.ceil((admission.retryAfter ?? 0) / 1000);
        return json(
          429,
          { error: "rate_limited", retryAfter: admission.retryAfter },
          { "retry-after": String(seconds) },
        );
      }
      return json(401, { error: "unauthenticated" });
    }

    let body: { email?: unknown; password?: unknown };
    try {
      body = await request.json();
    } catch {
      return json(400, { error: "invalid_json" });
    }
    if (
      typeof body.email !== "string" ||
      typeof body.password !== "string" ||
      new TextEncoder().encode(body.email).length > 254 ||
      body.password.length > 256
    ) {
      return json(400, { error: "invalid_argument" });
    }
    const result = await ctx.runMutation(internal.login.verifyPassword, {
      email: body.email,
      password: body.password,
      caller,
    });
    return json(200, result);
  }),
});

export default http;
