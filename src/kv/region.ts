// A region: a key range [startKey, endKey) replicated by its own Raft group, with an epoch.
// An empty startKey means "from the first key", an empty endKey "to the last key".
//
// invariant: startKey < endKey whenever both are non-empty
// invariant: epoch.version rises by one with every split of this region (never falls)

import { compareBytes } from './engine/engine.js';
import type { RegionEpoch, RegionInfo } from './protocol.js';
import { fromWireKey, toWireKey } from './protocol.js';

export interface RegionMeta {
  readonly id: string;
  readonly startKey: Uint8Array;
  readonly endKey: Uint8Array;
  readonly epoch: RegionEpoch;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
}

/** Index and term at which a region created by a split begins (its bootstrap snapshot). */
export const SPLIT_INIT_INDEX = 5;
export const SPLIT_INIT_TERM = 5;

export function keyInRegion(r: Pick<RegionMeta, 'startKey' | 'endKey'>, key: Uint8Array): boolean {
  if (r.startKey.length > 0 && compareBytes(key, r.startKey) < 0) return false;
  if (r.endKey.length > 0 && compareBytes(key, r.endKey) >= 0) return false;
  return true;
}

/** [start, end) (an empty end = unbounded) lies inside the region. */
export function rangeInRegion(r: Pick<RegionMeta, 'startKey' | 'endKey'>, start: Uint8Array | null, end: Uint8Array | null): boolean {
  const s = start ?? new Uint8Array(0);
  const e = end ?? new Uint8Array(0);
  if (r.startKey.length > 0 && compareBytes(s, r.startKey) < 0) return false;
  if (r.endKey.length > 0) {
    if (e.length === 0) return false;
    if (compareBytes(e, r.endKey) > 0) return false;
  }
  return true;
}

/** JSON form (stored in the engine and region.json). */
export function encodeRegionMeta(m: RegionMeta): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ id: m.id, startKey: toWireKey(m.startKey), endKey: toWireKey(m.endKey), epoch: m.epoch, voters: m.voters, learners: m.learners }),
  );
}

export function decodeRegionMeta(b: Uint8Array): RegionMeta {
  const j = JSON.parse(new TextDecoder().decode(b)) as { id: string; startKey: string; endKey: string; epoch: RegionEpoch; voters: string[]; learners: string[] };
  return { id: j.id, startKey: fromWireKey(j.startKey), endKey: fromWireKey(j.endKey), epoch: j.epoch, voters: j.voters, learners: j.learners ?? [] };
}

export function toRegionInfo(m: RegionMeta, addressOf: (id: string) => string | undefined, leader: string): RegionInfo {
  const peer = (id: string): { id: string; address: string } => ({ id, address: addressOf(id) ?? '' });
  return {
    id: m.id,
    startKey: toWireKey(m.startKey),
    endKey: toWireKey(m.endKey),
    epoch: m.epoch,
    voters: m.voters.map(peer),
    learners: m.learners.map(peer),
    leader,
  };
}

export function describeRegion(m: RegionMeta): string {
  const k = (b: Uint8Array, open: string): string => (b.length === 0 ? open : JSON.stringify(Buffer.from(b).toString('utf8')));
  return `region ${m.id} [${k(m.startKey, '-inf')}, ${k(m.endKey, '+inf')}) v${m.epoch.version}`;
}
