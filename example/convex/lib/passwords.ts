/**
 * Password hashing for the trusted-server login (http.ts): PBKDF2-SHA-256
 * with a random 16-byte salt, compared in constant time. Web Crypto only, so
 * it runs in Convex's default runtime.
 */
const ITERATIONS = 100_000;

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function pbkdf2(password: string, salt: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations: ITERATIONS },
    key,
    256,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<{ hash: string; salt: string }> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return { hash: toHex(await pbkdf2(password, salt)), salt: toHex(salt) };
}

/**
 * True iff `password` matches. With no stored hash it still derives one (from
 * a fixed salt) so an unknown account costs the same time as a wrong password.
 */
export async function checkPassword(
  password: string,
  stored: { hash?: string; salt?: string },
): Promise<boolean> {
  const salt = stored.salt ? fromHex(stored.salt) : new Uint8Array(16);
  const derived = await pbkdf2(password, salt);
  if (!stored.hash) return false;
  return constantTimeEqualBytes(derived, fromHex(stored.hash));
}

/** Equal-length byte comparison whose time does not depend on where they differ. */
export function constantTimeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  // The lengths are equal, so `b[i]` is always defined.
  for (const [i, x] of a.entries()) diff |= x ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Compares two secrets of any length in constant time: both are hashed to 32
 * bytes first, so neither the position of the first difference nor the
 * length of the expected secret leaks through timing.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(given)),
    crypto.subtle.digest("SHA-256", enc.encode(expected)),
  ]);
  return constantTimeEqualBytes(new Uint8Array(a), new Uint8Array(b)) && expected.length > 0;
}
