import type { ApiKeyDenial } from "../component/apiKeys/model.js";

/*
 * The HTTP side of API keys: where the key is read from and how a refusal is
 * answered. Bodies name only the status class, never the reason behind it,
 * so a caller cannot tell an unknown key id from a wrong secret or a revoked key.
 */

/** The key in `Authorization: Bearer <key>`, or null (no header, another scheme, empty or oversized). */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get("authorization");
  if (header === null || header.length > 512) return null;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return match?.[1] ?? null;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** 401 (no usable key), 403 (the key lacks the scope) or 429 (rate-limited, with Retry-After in seconds). */
export function apiKeyResponse(denial: ApiKeyDenial): Response {
  if (denial.reason === "rate_limited") {
    const seconds = Math.max(1, Math.ceil((denial.retryAfter ?? 0) / 1000));
    return json(429, { error: "rate_limited" }, { "retry-after": String(seconds) });
  }
  if (denial.reason === "scope") return json(403, { error: "forbidden" });
  return json(401, { error: "unauthorized" }, { "www-authenticate": 'Bearer realm="api"' });
}
