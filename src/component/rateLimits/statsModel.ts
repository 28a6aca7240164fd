import { v, type Infer } from "convex/values";

/** Validators of `stats` (see ./statsQuery.ts), and their `Infer`'d types. */

export const statsArgs = {
  name: v.string(),
  /** One key's stats; omitted: the whole limit, with its top denied keys. */
  key: v.optional(v.string()),
  /** ms since epoch; the hours starting in [from, to) are returned. */
  from: v.number(),
  to: v.number(),
  /** How many top denied keys (default 10, at most 25). */
  top: v.optional(v.number()),
  /** IANA zone whose midnights split `days` (default "UTC"), e.g. "America/New_York". */
  timeZone: v.optional(v.string()),
};

const vCounts = { allowed: v.number(), denied: v.number(), consumed: v.number() };

export const vStatsResult = v.object({
  /** Hours (UTC, start in ms) with any call, oldest first. */
  hours: v.array(v.object({ hour: v.number(), ...vCounts })),
  /** The same summed per day of `timeZone` (UTC by default; `day` = its local midnight, in ms). */
  days: v.array(v.object({ day: v.number(), ...vCounts })),
  total: v.object(vCounts),
  /** Without `key`: the keys with the most denials in the range, most first. */
  topDenied: v.array(v.object({ key: v.string(), ...vCounts })),
  /** False when some hour had more denied keys than `top`: a key denied a little in many hours may be missing. */
  topDeniedExact: v.boolean(),
  /** Hours starting before this are final; later ones still gain counts (the current hour, unfolded ones). */
  completeUntil: v.number(),
});
export type StatsResult = Infer<typeof vStatsResult>;
export type StatsArgs = {
  name: string;
  key?: string;
  from: number;
  to: number;
  top?: number;
  timeZone?: string;
};
