// The durable hard state (term, vote, commit) and the node's ConfState, in one small file
// `meta` in the data directory, replaced atomically: write `meta.tmp`, fdatasync it, rename it
// over `meta`, fsync the directory. A crash leaves the old file or the new one, never a mix;
// a leftover `meta.tmp` is removed on open.
//
// File format, one line:  RKVMETA1 <crc32 of the JSON, 8 hex digits> <JSON>\n
// JSON: {"term":N,"vote":"id","commit":N,"confState":{...}|null}
//
// Term, vote and ConfState must be durable before the node acts on them, so sync() writes when
// any of them changed. The commit index is only an optimisation (Raft recovers it from the
// leader), so a change of commit alone is written lazily: with the next term/vote change, or by
// sync(true) (e.g. at close). This saves two fsyncs on nearly every Ready of a busy node.

import { open, rename, rm } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { type ConfState, EMPTY_HARD_STATE, type HardState } from '../raft/core/types.js';
import { StorageError, ioError } from './errors.js';
import { fsyncDir } from './fs-util.js';
import { type StorageLogger, noopStorageLogger } from './logger.js';

export const META_FILE = 'meta';
const TMP_FILE = 'meta.tmp';
const MAGIC = 'RKVMETA1';

interface MetaState {
  readonly hardState: HardState;
  readonly confState: ConfState | undefined;
}

export class MetaStore {
  private durable: MetaState;
  private wanted: MetaState;
  private chain: Promise<void> = Promise.resolve();
  private failure: StorageError | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    state: MetaState,
  ) {
    this.durable = state;
    this.wanted = state;
  }

  /** Loads `dir/meta` (an empty state if there is none). The directory must exist. */
  static async open(dir: string, logger: StorageLogger = noopStorageLogger): Promise<MetaStore> {
    const path = `${dir}/${META_FILE}`;
    try {
      await rm(`${dir}/${TMP_FILE}`).then(
        () => logger.info(`removed a leftover ${dir}/${TMP_FILE} (a meta write interrupted by a crash)`),
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        },
      );
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new MetaStore(dir, { hardState: EMPTY_HARD_STATE, confState: undefined });
        throw err;
      }
      return new MetaStore(dir, parseMeta(path, text));
    } catch (err) {
      throw ioError(`open meta ${path}`, err);
    }
  }

  get hardState(): HardState {
    return this.wanted.hardState;
  }

  get confState(): ConfState | undefined {
    return this.wanted.confState;
  }

  setHardState(hs: HardState): void {
    this.checkUsable();
    this.wanted = { ...this.wanted, hardState: { term: hs.term, vote: hs.vote, commit: hs.commit } };
  }

  setConfState(cs: ConfState | undefined): void {
    this.checkUsable();
    this.wanted = { ...this.wanted, confState: cs };
  }

  /** True when term, vote or ConfState differ from the file (a write is due before acting). */
  needsSync(): boolean {
    const a = this.wanted;
    const b = this.durable;
    return a.hardState.term !== b.hardState.term || a.hardState.vote !== b.hardState.vote || !sameConf(a.confState, b.confState);
  }

  /** Makes term, vote and ConfState durable; with `force`, also a changed commit index. */
  sync(force = false): Promise<void> {
    try {
      this.checkUsable();
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.chain.then(() => this.writeIfNeeded(force));
    this.chain = run.catch(() => {});
    return run;
  }

  private async writeIfNeeded(force: boolean): Promise<void> {
    if (this.failure) throw this.failure;
    const state = this.wanted;
    const changed = this.needsSync() || (force && state.hardState.commit !== this.durable.hardState.commit);
    if (!changed) return;
    const tmp = `${this.dir}/${TMP_FILE}`;
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(formatMeta(state));
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, `${this.dir}/${META_FILE}`);
      await fsyncDir(this.dir);
    } catch (err) {
      this.failure = ioError(`write of ${this.dir}/${META_FILE} failed; the meta store refuses further use`, err);
      throw this.failure;
    }
    this.durable = state;
  }

  /** Writes anything pending (commit included); further calls fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.sync(true);
    } finally {
      this.closed = true;
    }
  }

  private checkUsable(): void {
    if (this.closed) throw new StorageError('CLOSED', `meta store ${this.dir} is closed`);
    if (this.failure) throw this.failure;
  }
}

function formatMeta(s: MetaState): string {
  const json = JSON.stringify({
    term: s.hardState.term,
    vote: s.hardState.vote,
    commit: s.hardState.commit,
    confState: s.confState ?? null,
  });
  return `${MAGIC} ${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

function parseMeta(path: string, text: string): MetaState {
  const bad = (why: string): StorageError => new StorageError('CORRUPT_META', `${path}: ${why}`);
  const m = /^RKVMETA1 ([0-9a-f]{8}) (.*)\n$/s.exec(text);
  if (!m) throw bad('not a raftkv meta file (bad header or truncated)');
  const json = m[2]!;
  if (parseInt(m[1]!, 16) !== crc32(json)) throw bad('checksum mismatch');
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch (err) {
    throw bad(`cannot parse: ${(err as Error).message}`);
  }
  const { term, vote, commit, confState } = o;
  if (!isCount(term) || typeof vote !== 'string' || !isCount(commit)) throw bad(`expected term, vote and commit, got ${json}`);
  if (confState !== null && !isConfState(confState)) throw bad(`malformed confState in ${json}`);
  return { hardState: { term, vote, commit }, confState: confState ?? undefined };
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isIdList(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

export function isConfState(v: unknown): v is ConfState {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return isIdList(c.voters) && isIdList(c.votersOutgoing) && isIdList(c.learners) && isIdList(c.learnersNext) && typeof c.autoLeave === 'boolean';
}

function sameConf(a: ConfState | undefined, b: ConfState | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
