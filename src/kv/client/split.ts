// Splitting multi-key and range work over the route table.

import type { Unit } from './executor.js';
import { maxStart, minEnd } from './keys.js';
import type { Router } from './router.js';

/** Groups items by the region holding each one's key (regions in first-seen order, items in input order). */
export async function splitByKey<T>(items: readonly T[], keyOf: (t: T) => Buffer, router: Router, deadline: number): Promise<Array<Unit<T[]>>> {
  const groups = new Map<string, { region: Unit<T[]>['region']; part: T[] }>();
  for (const it of items) {
    const r = await router.locate(keyOf(it), deadline);
    let g = groups.get(r.id);
    if (!g) groups.set(r.id, (g = { region: r, part: [] }));
    g.part.push(it);
  }
  return [...groups.values()];
}

/** Cuts a region's items into requests of at most maxCount items and (about) maxBytes bytes. */
export function chunk<T>(items: readonly T[], maxCount: number, maxBytes: number, sizeOf: (t: T) => number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const n = sizeOf(it);
    if (cur.length > 0 && (cur.length >= maxCount || bytes + n > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** splitByKey, then chunk each region's share. */
export async function splitAndChunk<T>(
  items: readonly T[],
  keyOf: (t: T) => Buffer,
  router: Router,
  deadline: number,
  maxCount: number,
  maxBytes: number,
  sizeOf: (t: T) => number,
): Promise<Array<Unit<T[]>>> {
  const units = await splitByKey(items, keyOf, router, deadline);
  return units.flatMap((u) => chunk(u.part, maxCount, maxBytes, sizeOf).map((part) => ({ region: u.region, part })));
}

export interface Range {
  /** '' = -inf */
  readonly start: Buffer;
  /** '' = +inf */
  readonly end: Buffer;
}

/** [start, end) cut along region bounds: one part per overlapping region, clipped to it. */
export async function splitRange(range: Range, router: Router, deadline: number): Promise<Array<Unit<Range>>> {
  const regions = await router.cover(range.start, range.end, deadline);
  return regions.map((r) => ({ region: r, part: { start: maxStart(range.start, r.startKey), end: minEnd(range.end, r.endKey) } }));
}
