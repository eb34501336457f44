// The route table: the regions the client knows, sorted by start key, without overlaps, and a
// leader cache per region. Pure data: fetching (router.ts) and requests (region-rpc.ts) live
// elsewhere.
//
// Merging news about regions (a Regions reply, the region carried by an INVALID_REGION_EPOCH
// error): a region replaces every known region it overlaps (or shares its id with) unless one
// of those is newer, by epoch.version (and, for the same region, epoch.confVer). Splits only
// raise versions, so a lagging store's older view never overwrites a newer one.

import type { PeerInfo, RegionEpoch, RegionInfo } from '../protocol.js';
import { fromWireKey } from '../protocol.js';
import { asBuffer, compareEnds, compareKeys } from './keys.js';

export interface RegionRoute {
  readonly id: string;
  /** Inclusive; empty = -inf. */
  readonly startKey: Buffer;
  /** Exclusive; empty = +inf. */
  readonly endKey: Buffer;
  readonly epoch: RegionEpoch;
  readonly voters: readonly PeerInfo[];
  readonly learners: readonly PeerInfo[];
}

export function toRoute(info: RegionInfo): RegionRoute {
  return {
    id: info.id,
    startKey: asBuffer(fromWireKey(info.startKey)),
    endKey: asBuffer(fromWireKey(info.endKey)),
    epoch: { confVer: info.epoch?.confVer ?? 0, version: info.epoch?.version ?? 0 },
    voters: info.voters ?? [],
    learners: info.learners ?? [],
  };
}

/** Does `r` hold `key`? */
export function contains(r: RegionRoute, key: Uint8Array): boolean {
  return compareKeys(r.startKey, key) <= 0 && (r.endKey.length === 0 || compareKeys(key, r.endKey) < 0);
}

/** Do two regions (or a region and a range) overlap? */
function overlaps(aStart: Uint8Array, aEnd: Uint8Array, bStart: Uint8Array, bEnd: Uint8Array): boolean {
  // a.start < b.end && b.start < a.end, with '' ends = +inf
  const aBeforeBEnd = bEnd.length === 0 || compareKeys(aStart, bEnd) < 0;
  const bBeforeAEnd = aEnd.length === 0 || compareKeys(bStart, aEnd) < 0;
  return aBeforeBEnd && bBeforeAEnd;
}

function sameRoute(a: RegionRoute, b: RegionRoute): boolean {
  return (
    a.id === b.id &&
    a.epoch.version === b.epoch.version &&
    a.epoch.confVer === b.epoch.confVer &&
    compareKeys(a.startKey, b.startKey) === 0 &&
    compareKeys(a.endKey, b.endKey) === 0
  );
}

export class RouteTable {
  private regions: RegionRoute[] = [];
  private readonly leaders = new Map<string, string>();

  get size(): number {
    return this.regions.length;
  }

  /** The regions, in key order. */
  all(): readonly RegionRoute[] {
    return this.regions;
  }

  /**
   * Merges news about regions. Returns true when the routing changed (a region's range, epoch
   * or existence); a leader hint alone is not a change.
   */
  merge(infos: readonly RegionInfo[]): boolean {
    let changed = false;
    for (const info of infos) {
      if (!info || typeof info.id !== 'string') continue;
      const r = toRoute(info);
      if (r.endKey.length > 0 && compareKeys(r.startKey, r.endKey) >= 0) continue; // malformed
      const hit = this.regions.filter((e) => e.id === r.id || overlaps(e.startKey, e.endKey, r.startKey, r.endKey));
      const older = hit.some(
        (e) => e.epoch.version > r.epoch.version || (e.id === r.id && e.epoch.version === r.epoch.version && e.epoch.confVer > r.epoch.confVer),
      );
      if (older) continue;
      if (hit.length === 1 && sameRoute(hit[0]!, r)) {
        // Same routing; peers' addresses may still have been refreshed.
        this.regions[this.regions.indexOf(hit[0]!)] = r;
      } else {
        this.regions = this.regions.filter((e) => !hit.includes(e));
        for (const e of hit) if (e.id !== r.id) this.leaders.delete(e.id);
        const at = this.regions.findIndex((e) => compareKeys(r.startKey, e.startKey) < 0);
        if (at < 0) this.regions.push(r);
        else this.regions.splice(at, 0, r);
        changed = true;
      }
      if (info.leader) this.leaders.set(r.id, info.leader);
      else {
        const cur = this.leaders.get(r.id);
        if (cur !== undefined && !r.voters.some((p) => p.id === cur)) this.leaders.delete(r.id);
      }
    }
    return changed;
  }

  /** The region holding `key`, if known. */
  find(key: Uint8Array): RegionRoute | undefined {
    // Last region whose start <= key.
    let lo = 0;
    let hi = this.regions.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(this.regions[mid]!.startKey, key) <= 0) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const r = best >= 0 ? this.regions[best] : undefined;
    return r && contains(r, key) ? r : undefined;
  }

  /** The region whose range ends at `end` from below: holds the keys just under `end` ('' = +inf). */
  findBefore(end: Uint8Array): RegionRoute | undefined {
    if (end.length === 0) {
      const last = this.regions[this.regions.length - 1];
      return last && last.endKey.length === 0 ? last : undefined;
    }
    return this.regions.find((r) => compareKeys(r.startKey, end) < 0 && compareEnds(end, r.endKey) <= 0);
  }

  byId(id: string): RegionRoute | undefined {
    return this.regions.find((r) => r.id === id);
  }

  /**
   * The regions overlapping [start, end) in key order ('' bounds = unbounded), and whether
   * they cover the range without gaps.
   */
  overlapping(start: Uint8Array, end: Uint8Array): { regions: RegionRoute[]; covered: boolean } {
    const regions = this.regions.filter((r) => overlaps(r.startKey, r.endKey, start, end));
    let covered = regions.length > 0 && compareKeys(regions[0]!.startKey, start) <= 0;
    for (let i = 0; covered && i < regions.length; i++) {
      const r = regions[i]!;
      const next = regions[i + 1];
      if (next) covered = r.endKey.length > 0 && compareKeys(r.endKey, next.startKey) === 0;
      else covered = compareEnds(end, r.endKey) <= 0;
    }
    return { regions, covered };
  }

  /** Does the table cover every key? */
  coversAll(): boolean {
    return this.overlapping(Buffer.alloc(0), Buffer.alloc(0)).covered;
  }

  leaderOf(regionId: string): string | undefined {
    return this.leaders.get(regionId);
  }

  setLeader(regionId: string, node: string): void {
    this.leaders.set(regionId, node);
  }

  /** Forgets the cached leader (only if it is still `node`, when given). */
  forgetLeader(regionId: string, node?: string): void {
    if (node === undefined || this.leaders.get(regionId) === node) this.leaders.delete(regionId);
  }
}
