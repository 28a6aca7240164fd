/**
 * Skip links between seals, so a proof from any seal to the head holds
 * O(log n) seals however old the event is. Pure: no `ctx`, no hashing.
 *
 * Seal n (n > 0) commits to the hash of seal n - 2^i for every i from 0 to
 * tz(n), the number of trailing zero bits of n: i = 0 is `prevHash`,
 * i >= 1 is `skips[i - 1]`. Odd seals link only to their predecessor, seal 8
 * to seals 7, 6, 4 and 0; a seal stores one extra hash on average and
 * log2(n) at most, and writing one reads that many earlier seals.
 *
 * A path down from seal m to an older seal k takes, at each seal, its
 * longest link that does not pass k. While k is far the jumps double (each
 * lands on a seal with more trailing zeros); once k is nearer than m's
 * longest link, each jump clears the top bit of the remaining distance. So a
 * path takes at most 2·log2(m) + 1 seals.
 */

/** Trailing zero bits of a positive safe integer. */
export function trailingZeros(n: number): number {
  let z = 0;
  let x = n;
  while (x % 2 === 0 && x > 0) {
    x /= 2;
    z++;
  }
  return z;
}

/** Numbers of the seals `skips` names for seal n, in order: n-2, n-4, …, n-2^tz(n). */
export function skipTargets(n: number): number[] {
  if (!Number.isSafeInteger(n) || n <= 0) return [];
  const out: number[] = [];
  for (let i = 1, step = 2; i <= trailingZeros(n); i++, step *= 2) out.push(n - step);
  return out;
}

/**
 * Which link of seal `to` names seal `from`: 0 for `prevHash`, i >= 1 for
 * `skips[i - 1]`; null when `to` has no link to `from`.
 */
export function linkSlot(from: number, to: number): number | null {
  const d = to - from;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(d) || from < 0 || d <= 0) return null;
  let i = 0;
  let step = 1;
  while (step < d) {
    step *= 2;
    i++;
  }
  if (step !== d) return null;
  return i === 0 || i <= trailingZeros(to) ? i : null;
}

/** The next seal on the way down from seal m to seal k (k < m): the longest link that does not pass k. */
function nextHop(m: number, k: number): number {
  const z = trailingZeros(m);
  let step = 1;
  for (let i = 1, s = 2; i <= z && s <= m - k; i++, s *= 2) step = s;
  return m - step;
}

/** The seals a proof visits from seal k up to seal h (k <= h), ascending. */
export function skipPath(k: number, h: number): number[] {
  const down = [h];
  for (let m = h; m > k;) down.push((m = nextHop(m, k)));
  return down.reverse();
}

/** Most seals a path between two linked seals can hold (2·53 + 1 for any safe seal number). */
export const MAX_SKIP_PATH = 2 * 53 + 1;
