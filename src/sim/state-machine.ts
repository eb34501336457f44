// The replicated state machine of the simulation: a small key-value map plus everything needed to
// check it: the ordered list of applied payload ids, and a hash chain over every applied entry
// (so two replicas with the same chain at the same index applied the same sequence).

import { type Entry, EntryType } from '../raft/core/types.js';
import { HASH_SEED, hashBytes, mix } from './hash.js';

/** A client write: "set key := id". Every write has a run-unique id. */
export interface Write {
  readonly id: number;
  readonly key: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeWrite(w: Write): Uint8Array {
  return enc.encode(`set ${w.key} ${w.id}`);
}

export function decodeWrite(data: Uint8Array): Write {
  const s = dec.decode(data);
  const parts = s.split(' ');
  if (parts.length !== 3 || parts[0] !== 'set') throw new Error(`bad payload ${JSON.stringify(s)}`);
  return { key: parts[1]!, id: Number(parts[2]) };
}

const entryHashes = new WeakMap<Entry, number>();

/** Fingerprint of an entry's type and data (memoised: entries are shared by reference). */
export function entryHash(e: Entry): number {
  let h = entryHashes.get(e);
  if (h === undefined) {
    h = hashBytes(e.data, mix(HASH_SEED, e.type));
    entryHashes.set(e, h);
  }
  return h;
}

export interface KvValue {
  /** Id of the write that set the value. */
  readonly id: number;
  /** Log index of that write: a version number that only grows per key. */
  readonly index: number;
}

interface Image {
  applied: number;
  appliedTerm: number;
  chain: number;
  kv: [string, number, number][];
  ids: number[];
}

export class KvStateMachine {
  applied = 0;
  appliedTerm = 0;
  chain = HASH_SEED;
  readonly kv = new Map<string, KvValue>();
  /** Ids of applied writes, in apply order. */
  readonly ids: number[] = [];
  readonly idSet = new Set<number>();

  /**
   * Applies one committed entry (the caller checks contiguity). Returns the write it carried, if
   * any. Conf changes and empty no-ops change nothing but the applied index and the chain.
   */
  apply(e: Entry): Write | undefined {
    this.applied = e.index;
    this.appliedTerm = e.term;
    this.chain = mix(mix(mix(this.chain, e.index), e.term), entryHash(e));
    if (e.type !== EntryType.Normal || e.data.length === 0) return undefined;
    const w = decodeWrite(e.data);
    this.kv.set(w.key, { id: w.id, index: e.index });
    this.ids.push(w.id);
    this.idSet.add(w.id);
    return w;
  }

  /** Counts an entry as applied without applying it (test hook: a runtime that loses a write). */
  skip(e: Entry): void {
    this.applied = e.index;
    this.appliedTerm = e.term;
  }

  read(key: string): KvValue | undefined {
    return this.kv.get(key);
  }

  serialize(): Uint8Array {
    const img: Image = {
      applied: this.applied,
      appliedTerm: this.appliedTerm,
      chain: this.chain,
      kv: [...this.kv].map(([k, v]) => [k, v.id, v.index]),
      ids: this.ids,
    };
    return enc.encode(JSON.stringify(img));
  }

  /** Rebuilds the state from a snapshot (an empty image is the bootstrap state at `index`). */
  static restore(data: Uint8Array, index: number, term: number): KvStateMachine {
    const sm = new KvStateMachine();
    if (data.length === 0) {
      sm.applied = index;
      sm.appliedTerm = term;
      return sm;
    }
    const img = JSON.parse(dec.decode(data)) as Image;
    sm.applied = img.applied;
    sm.appliedTerm = img.appliedTerm;
    sm.chain = img.chain;
    for (const [k, id, index] of img.kv) sm.kv.set(k, { id, index });
    for (const id of img.ids) {
      sm.ids.push(id);
      sm.idSet.add(id);
    }
    return sm;
  }
}
