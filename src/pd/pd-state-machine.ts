// The placement driver's replicated state: the cluster map. Stores (id, address, state), the
// latest known layout of every region, and the scheduler switches. It changes only through
// the PD group's log, so every PD node holds the same map and a new PD leader starts from it.
// Heartbeat statistics are not here: they change every second and the PD leader keeps them in
// memory (pd-leader.ts), rebuilt from heartbeats after a failover.
//
// invariant: a region's stored epoch never falls (older reports are ignored)
// invariant: stored regions never overlap (a newer version evicts overlapping older ones)

import type { CommittedEntry, SnapshotImage, StateMachine } from '../raft/runtime/state-machine.js';
import { compareBytes } from '../kv/engine/engine.js';
import { type RegionMeta, decodeRegionMeta, encodeRegionMeta } from '../kv/region.js';
import type { StoreState } from './cluster-view.js';

export interface StoreRecord {
  readonly id: string;
  readonly address: string;
  readonly state: StoreState;
}

export type SchedulerName = 'split' | 'leaderBalance' | 'replicaBalance' | 'replaceDown';

export type PdCommand =
  | { readonly type: 'putStore'; readonly id: string; readonly address: string }
  | { readonly type: 'setStoreState'; readonly id: string; readonly state: StoreState }
  | { readonly type: 'putRegion'; readonly meta: string } // encodeRegionMeta, as text
  | { readonly type: 'setScheduler'; readonly name: SchedulerName; readonly enabled: boolean }
  /** Hands out a fresh id: 's<n>' for a store, 'r<n>' for a region; never one in the map. */
  | { readonly type: 'allocId'; readonly kind: 'store' | 'region' };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodePdCommand(c: PdCommand): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

export function regionCommand(meta: RegionMeta): PdCommand {
  return { type: 'putRegion', meta: dec.decode(encodeRegionMeta(meta)) };
}

/** Is `a` a newer view of the same region than `b`? */
export function newerEpoch(a: RegionMeta, b: RegionMeta): boolean {
  return a.epoch.version > b.epoch.version || (a.epoch.version === b.epoch.version && a.epoch.confVer > b.epoch.confVer);
}

export function overlaps(a: RegionMeta, b: RegionMeta): boolean {
  const aEndsBeforeB = a.endKey.length > 0 && compareBytes(a.endKey, b.startKey) <= 0;
  const bEndsBeforeA = b.endKey.length > 0 && compareBytes(b.endKey, a.startKey) <= 0;
  return !aEndsBeforeB && !bEndsBeforeA;
}

export class PdStateMachine implements StateMachine<Uint8Array> {
  readonly stores = new Map<string, StoreRecord>();
  readonly regions = new Map<string, RegionMeta>();
  readonly schedulers: Record<SchedulerName, boolean> = { split: true, leaderBalance: true, replicaBalance: true, replaceDown: true };
  /** The next number allocId may hand out. invariant: only rises */
  private nextId = 1;
  /** invariant: applied <= the group's commit index */
  private applied = 0;
  /** Called after each applied batch (the PD leader reacts to map changes). */
  onChange: (() => void) | undefined;

  apply(entries: readonly CommittedEntry[]): Uint8Array[] {
    const out = entries.map((e) => {
      this.applied = e.index;
      return enc.encode(JSON.stringify(this.applyOne(JSON.parse(dec.decode(e.data)) as PdCommand)));
    });
    this.onChange?.();
    return out;
  }

  private applyOne(c: PdCommand): unknown {
    switch (c.type) {
      case 'putStore': {
        const cur = this.stores.get(c.id);
        this.stores.set(c.id, { id: c.id, address: c.address, state: cur?.state ?? 'up' });
        return { ok: true };
      }
      case 'setStoreState': {
        const cur = this.stores.get(c.id);
        if (!cur) return { ok: false, error: `no store '${c.id}'` };
        if (cur.state === 'tombstone' && c.state !== 'tombstone') return { ok: false, error: `store '${c.id}' is a tombstone` };
        this.stores.set(c.id, { ...cur, state: c.state });
        return { ok: true };
      }
      case 'putRegion': {
        const meta = decodeRegionMeta(enc.encode(c.meta));
        const cur = this.regions.get(meta.id);
        if (cur && !newerEpoch(meta, cur)) return { ok: true, changed: false };
        // A region reported at a newer version replaces the older regions it overlaps (a split
        // shrank the parent: the parent's own report carries its new range).
        for (const [id, r] of this.regions) {
          if (id !== meta.id && overlaps(r, meta) && r.epoch.version < meta.epoch.version) this.regions.delete(id);
        }
        this.regions.set(meta.id, meta);
        return { ok: true, changed: true };
      }
      case 'setScheduler':
        this.schedulers[c.name] = c.enabled;
        return { ok: true };
      case 'allocId': {
        // Skips ids taken by configured stores and regions (static stores are often 's1', 's2', ...),
        // including stores named as a region's peer that have never reported themselves.
        const name = (n: number): string => (c.kind === 'store' ? `s${n}` : `r${n}`);
        const members = new Set<string>();
        if (c.kind === 'store') for (const r of this.regions.values()) for (const p of [...r.voters, ...r.learners]) members.add(p);
        const taken = (id: string): boolean => (c.kind === 'store' ? this.stores.has(id) || members.has(id) : this.regions.has(id));
        while (taken(name(this.nextId))) this.nextId++;
        const id = name(this.nextId);
        this.nextId++;
        return { ok: true, id };
      }
      default:
        throw new Error(`unknown PD command ${JSON.stringify(c)}`);
    }
  }

  saveSnapshot(): SnapshotImage {
    const image = {
      stores: [...this.stores.values()],
      regions: [...this.regions.values()].map((m) => dec.decode(encodeRegionMeta(m))),
      schedulers: this.schedulers,
      nextId: this.nextId,
    };
    return { index: this.applied, data: enc.encode(JSON.stringify(image)) };
  }

  loadSnapshot(image: SnapshotImage): void {
    const j = JSON.parse(dec.decode(image.data)) as { stores: StoreRecord[]; regions: string[]; schedulers: Record<SchedulerName, boolean>; nextId?: number };
    this.stores.clear();
    for (const s of j.stores) this.stores.set(s.id, s);
    this.regions.clear();
    for (const r of j.regions) {
      const m = decodeRegionMeta(enc.encode(r));
      this.regions.set(m.id, m);
    }
    Object.assign(this.schedulers, j.schedulers);
    this.nextId = j.nextId ?? 1;
    this.applied = image.index;
    this.onChange?.();
  }
}
