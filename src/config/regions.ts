// How the static regions divide the key space. Keys compare as UTF-8 bytes (the engines' order);
// a startKey of '' means "from the smallest key" and an endKey of '' means "to the end".

import { quote } from './text.js';

export interface RegionRange {
  readonly id: string;
  readonly startKey: string;
  readonly endKey: string;
}

/** A problem found in the region list; `path` is relative to the list (e.g. [2, 'endKey']). */
export interface RegionProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Compares two endKeys, where '' (unbounded) sorts after every key. */
function compareEnds(a: string, b: string): number {
  if (a === '' || b === '') return (a === '' ? 1 : 0) - (b === '' ? 1 : 0);
  return compareKeys(a, b);
}

const showEnd = (endKey: string): string => (endKey === '' ? '+∞' : quote(endKey));
const showRange = (startKey: string, endKey: string): string => `[${quote(startKey)}, ${showEnd(endKey)})`;
const showRegion = (r: RegionRange): string => `region ${quote(r.id)} ${showRange(r.startKey, r.endKey)}`;

/**
 * Checks that the regions have unique ids and non-empty ranges, are listed in key order, and
 * together cover the whole key space exactly once. Each gap and each overlap is reported with
 * the regions on either side and the keys concerned.
 */
export function regionLayoutProblems(regions: readonly RegionRange[]): RegionProblem[] {
  const problems: RegionProblem[] = [];
  const firstWithId = new Map<string, number>();
  let emptyRange = false;
  regions.forEach((r, i) => {
    const first = firstWithId.get(r.id);
    if (first === undefined) firstWithId.set(r.id, i);
    else problems.push({ path: [i, 'id'], message: `duplicate region id ${quote(r.id)} (also regions[${first}])` });
    if (r.startKey !== '' && r.endKey !== '' && compareKeys(r.startKey, r.endKey) >= 0) {
      emptyRange = true;
      problems.push({ path: [i], message: `startKey ${quote(r.startKey)} must sort before endKey ${quote(r.endKey)} (region ${quote(r.id)})` });
    }
    const prev = regions[i - 1];
    if (prev && compareKeys(r.startKey, prev.startKey) < 0) {
      problems.push({ path: [i], message: `regions must be listed in key order: ${showRegion(r)} comes after ${showRegion(prev)}` });
    }
  });
  // Gaps and overlaps only mean something once every range is well formed.
  return emptyRange ? problems : problems.concat(coverageProblems(regions));
}

/** Sweeps the regions in key order, tracking how far the key space is covered so far. */
function coverageProblems(regions: readonly RegionRange[]): RegionProblem[] {
  const problems: RegionProblem[] = [];
  const order = regions.map((_, i) => i).sort((a, b) => compareKeys(regions[a]!.startKey, regions[b]!.startKey));
  let coveredTo = ''; // every key below this is covered ('' at the start: nothing yet)
  let coveredBy: RegionRange | undefined; // the region that reaches furthest
  let coveredAll = false; // some region runs to the end of the key space
  for (const i of order) {
    const r = regions[i]!;
    const c = coveredAll ? -1 : compareKeys(r.startKey, coveredTo);
    if (c > 0) {
      const after = coveredBy ? `between ${showRegion(coveredBy)} and ${showRegion(r)}` : `before ${showRegion(r)}; the first region must start at ''`;
      problems.push({ path: [i], message: `gap in the key space: no region holds the keys ${showRange(coveredTo, r.startKey)}, ${after}` });
    } else if (c < 0 && coveredBy) {
      const overlapEnd = coveredAll || compareEnds(r.endKey, coveredTo) < 0 ? r.endKey : coveredTo;
      problems.push({ path: [i], message: `${showRegion(coveredBy)} and ${showRegion(r)} overlap on the keys ${showRange(r.startKey, overlapEnd)}` });
    }
    if (coveredAll) continue;
    if (r.endKey === '') {
      coveredAll = true;
      coveredBy = r;
    } else if (compareKeys(r.endKey, coveredTo) > 0) {
      coveredTo = r.endKey;
      coveredBy = r;
    }
  }
  if (!coveredAll && coveredBy) {
    problems.push({ path: [], message: `gap in the key space: no region holds the keys ${showRange(coveredTo, '')}, after ${showRegion(coveredBy)}; the last region must end at '' (unbounded)` });
  }
  return problems;
}
