// The durable hard state (term, vote, commit) in `meta.json`, replaced atomically
// (temp file, fsync, rename, directory fsync). Term and vote must be durable before a vote is
// granted or a message of the term is sent; the commit index is only an optimisation, so a
// change of commit alone is written lazily, with the next term or vote change or at close.

import { existsSync, readFileSync } from 'node:fs';
import { EMPTY_HARD_STATE, type HardState } from '../raft/core/types.js';
import { StorageError } from './errors.js';
import { writeFileAtomic } from './fs-util.js';

const FILE = 'meta.json';

export class MetaStore {
  private durable: HardState;
  private wanted: HardState;

  private constructor(
    private readonly dir: string,
    hs: HardState,
  ) {
    this.durable = hs;
    this.wanted = hs;
  }

  static load(dir: string): MetaStore {
    const path = `${dir}/${FILE}`;
    if (!existsSync(path)) return new MetaStore(dir, EMPTY_HARD_STATE);
    let obj: unknown;
    try {
      obj = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new StorageError('CORRUPT_META', `${path}: cannot parse: ${(err as Error).message}`);
    }
    const o = obj as Partial<HardState>;
    if (!Number.isSafeInteger(o.term) || typeof o.vote !== 'string' || !Number.isSafeInteger(o.commit)) {
      throw new StorageError('CORRUPT_META', `${path}: expected {term, vote, commit}, got ${JSON.stringify(obj)}`);
    }
    return new MetaStore(dir, { term: o.term!, vote: o.vote, commit: o.commit! });
  }

  get hardState(): HardState {
    return this.wanted;
  }

  set(hs: HardState): void {
    this.wanted = hs;
  }

  /** True when term or vote differ from what is on disk (a write is needed before sending). */
  needsSync(): boolean {
    return this.wanted.term !== this.durable.term || this.wanted.vote !== this.durable.vote;
  }

  async sync(force = false): Promise<void> {
    if (!force && !this.needsSync()) return;
    const hs = this.wanted;
    if (hs === this.durable) return;
    await writeFileAtomic(this.dir, FILE, JSON.stringify(hs));
    this.durable = hs;
  }
}
