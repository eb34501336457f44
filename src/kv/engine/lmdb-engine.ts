// LmdbEngine: the KvEngine over LMDB (lmdb-js), with raw binary keys and values.
//
// Durability: the environment is opened with `noSync: true`. A commit writes its pages (so it
// survives a crash of this process) but does not fsync, so an OS crash or power loss can lose
// recent commits: that is acceptable because the Raft log is the write-ahead log, and the applied
// index lives in the engine, written in the same transaction as the data it covers, so after a
// crash the node simply reapplies the log from whatever index the engine holds. With noSync LMDB
// may also lose the *integrity* of the last commits on power loss (the meta page can point at
// unsynced pages); the engine is a cache of the log and can be rebuilt from a snapshot + log.
// `close()` syncs (mdb_env_sync) before closing, so a clean shutdown is fully durable.
//
// lmdb-js semantics this class adapts to KvEngine's (see the conformance tests):
// - getRange({ reverse: true }) takes `start` as the HIGH bound (inclusive) and `end` as the LOW
//   bound (exclusive). KvEngine's reverse scan is still [start, end), so we pass our end as
//   lmdb's start, skip a key equal to it, and pass our start as lmdb's end with inclusiveEnd.
// - a reverse range with no `end` stops *before* the key [0x00] (lmdb-js uses [0x00] as the
//   default beginning key, exclusive in reverse), so we always pass an explicit low bound.
// - lmdb-js tests `'start' in options` / `'end' in options`: a bound given as `undefined` is
//   not the same as an absent one, so RangeOptions are built with only the bounds that exist.
// - zero-length keys and keys over 1978 bytes are rejected by LMDB (see MAX_KEY_BYTES).
// - writes inside `transactionSync` are visible to reads (get/getRange) in the same callback,
//   which gives read-your-writes without an overlay; a throw aborts the LMDB transaction.
// - binary values and keys returned by get/getRange are fresh copies (safe to keep), but Buffers:
//   we return them as plain Uint8Array views.

import { open, type RangeOptions, type RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import {
  ASYNC_TX_ERROR,
  MAX_KEY_BYTES,
  NESTED_TX_ERROR,
  READ_IN_TX_ERROR,
  TX_FINISHED_ERROR,
  checkKey,
  checkValue,
  isStorableKey,
  isThenable,
  normalizeScan,
  type NormalizedScan,
} from './common.js';
import { compareBytes, type EngineTx, type KvEngine, type KvPair, type ScanOptions } from './engine.js';

export interface LmdbEngineOptions {
  /**
   * Skip fsync on commit (default true; see the note at the top of this file). With false,
   * lmdb-js syncs each commit (its "overlapping sync", after the commit returns). lmdb-js refuses
   * to open with noSync an environment that is open at the same time with overlapping sync.
   */
  readonly noSync?: boolean;
  /** Initial map size in bytes (lmdb-js grows the map as needed; default: lmdb-js's). */
  readonly mapSize?: number;
}

type Db = RootDatabase<Uint8Array, Uint8Array>;

/** The smallest storable key: the low bound of a reverse scan with no start. */
const FIRST_KEY = Uint8Array.of(0);

/**
 * lmdb-js hands out Buffers (fresh copies); callers get plain Uint8Arrays, as from MemoryEngine,
 * so that e.g. assert.deepStrictEqual and toString behave the same whichever engine is used.
 */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function plainOrUndefined(b: Uint8Array | undefined): Uint8Array | undefined {
  return b === undefined ? undefined : plain(b);
}

/** Truncates a bound to the longest storable length (LMDB cannot position on a longer key). */
function clampBound(b: Uint8Array): Uint8Array {
  return b.length > MAX_KEY_BYTES ? b.subarray(0, MAX_KEY_BYTES) : b;
}

/**
 * Runs a scan on `db` (in the current write transaction if there is one). The range handed to
 * lmdb-js may be a little wider than [start, end) (a key equal to a bound, or a key cut to a
 * storable length): every key is checked here, so the result is exactly [start, end).
 */
function scanDb(db: Db, n: NormalizedScan): KvPair[] {
  const out: KvPair[] = [];
  const o: RangeOptions = {};
  if (n.limit !== Infinity) o.limit = n.limit + 1; // at most one key is skipped below
  if (!n.reverse) {
    // Forward: start is an inclusive low bound; a cut start P <= start is a superset.
    if (n.start !== undefined) o.start = clampBound(n.start);
    if (n.end !== undefined && n.end.length <= MAX_KEY_BYTES) o.end = n.end;
    for (const { key, value } of db.getRange(o)) {
      if (n.end !== undefined && compareBytes(key, n.end) >= 0) break;
      if (n.start !== undefined && compareBytes(key, n.start) < 0) continue;
      out.push({ key: plain(key), value: plain(value) });
      if (out.length >= n.limit) break;
    }
  } else {
    // Reverse: lmdb's start is the inclusive HIGH bound, its end the LOW bound (exclusive, so
    // inclusiveEnd). Every storable key below `end` is <= its cut, so the cut is a superset.
    o.reverse = true;
    if (n.end !== undefined) o.start = clampBound(n.end);
    o.end = n.start !== undefined ? clampBound(n.start) : FIRST_KEY;
    o.inclusiveEnd = true;
    for (const { key, value } of db.getRange(o)) {
      if (n.end !== undefined && compareBytes(key, n.end) >= 0) continue;
      if (n.start !== undefined && compareBytes(key, n.start) < 0) break;
      out.push({ key: plain(key), value: plain(value) });
      if (out.length >= n.limit) break;
    }
  }
  return out;
}

class LmdbTx implements EngineTx {
  finished = false;

  constructor(private readonly db: Db) {}

  private live(): void {
    if (this.finished) throw new Error(TX_FINISHED_ERROR);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.live();
    return isStorableKey(key) ? plainOrUndefined(this.db.get(key)) : undefined;
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.live();
    checkKey(key);
    checkValue(value);
    this.db.putSync(key, value); // copied into the LMDB transaction here
  }

  delete(key: Uint8Array): void {
    this.live();
    if (isStorableKey(key)) this.db.removeSync(key);
  }

  deleteRange(start: Uint8Array, end: Uint8Array): void {
    this.live();
    if (compareBytes(start, end) >= 0) return;
    const n = normalizeScan({ start, end });
    if (n === null) return;
    // Collect first: removing under a live cursor is not something to rely on.
    const keys: Uint8Array[] = [];
    const o: RangeOptions = {};
    if (n.start !== undefined) o.start = clampBound(n.start);
    if (n.end !== undefined && n.end.length <= MAX_KEY_BYTES) o.end = n.end;
    for (const key of this.db.getKeys(o)) {
      if (n.end !== undefined && compareBytes(key, n.end) >= 0) break;
      if (n.start !== undefined && compareBytes(key, n.start) < 0) continue;
      keys.push(key);
    }
    for (const key of keys) this.db.removeSync(key);
  }

  scan(opts: ScanOptions): KvPair[] {
    this.live();
    const n = normalizeScan(opts);
    return n === null ? [] : scanDb(this.db, n);
  }
}

export class LmdbEngine implements KvEngine {
  readonly name = 'lmdb';
  private inTx = false;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly db: Db,
    readonly path: string,
  ) {}

  /** Opens (creating if needed) the environment in the directory `path`. */
  static open(path: string, opts: LmdbEngineOptions = {}): LmdbEngine {
    mkdirSync(path, { recursive: true });
    const db = open<Uint8Array, Uint8Array>({
      path,
      noSubdir: false, // `path` is always a directory, whatever its name looks like
      keyEncoding: 'binary',
      encoding: 'binary',
      noSync: opts.noSync ?? true,
      ...(opts.mapSize !== undefined ? { mapSize: opts.mapSize } : {}),
    });
    return new LmdbEngine(db, path);
  }

  approximateSize(): { entries: number; bytes: number } {
    if (this.closing !== null) throw new Error('the engine is closed');
    const s = this.db.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number; entryCount: number };
    return { entries: s.entryCount, bytes: (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize };
  }

  private check(): void {
    if (this.closing !== null) throw new Error('the engine is closed');
    if (this.inTx) throw new Error(READ_IN_TX_ERROR);
  }

  transaction<T>(fn: (tx: EngineTx) => T): T {
    if (this.closing !== null) throw new Error('the engine is closed');
    if (this.inTx) throw new Error(NESTED_TX_ERROR);
    this.inTx = true;
    const tx = new LmdbTx(this.db);
    let result: T;
    try {
      // The callback returns undefined to lmdb-js: a returned promise (or lmdb's ABORT symbol)
      // must not change how lmdb-js finishes the transaction.
      this.db.transactionSync(() => {
        result = fn(tx);
        if (isThenable(result)) throw new TypeError(ASYNC_TX_ERROR);
        tx.finished = true;
        return undefined;
      });
    } finally {
      tx.finished = true;
      this.inTx = false;
    }
    return result!;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.check();
    return isStorableKey(key) ? plainOrUndefined(this.db.get(key)) : undefined;
  }

  scan(opts: ScanOptions): KvPair[] {
    this.check();
    const n = normalizeScan(opts);
    return n === null ? [] : scanDb(this.db, n);
  }

  count(start?: Uint8Array, end?: Uint8Array): number {
    this.check();
    const n = normalizeScan({ start, end });
    if (n === null) return 0;
    const exotic =
      (n.start !== undefined && n.start.length > MAX_KEY_BYTES) ||
      (n.end !== undefined && n.end.length > MAX_KEY_BYTES);
    if (exotic) return scanDb(this.db, n).length; // rare: bounds no key can equal
    const o: RangeOptions = {};
    if (n.start !== undefined) o.start = n.start;
    if (n.end !== undefined) o.end = n.end;
    return this.db.getKeysCount(o);
  }

  exportAll(): KvPair[] {
    this.check();
    // Outside a write transaction lmdb-js reads from one read transaction: a consistent image.
    return scanDb(this.db, { start: undefined, end: undefined, reverse: false, limit: Infinity });
  }

  importAll(pairs: Iterable<KvPair>): void {
    this.check();
    this.inTx = true;
    try {
      this.db.transactionSync(() => {
        // clearSync inside a transaction runs in it (mdb_drop), so a throw below restores all.
        this.db.clearSync();
        for (const p of pairs) {
          checkKey(p.key);
          checkValue(p.value);
          this.db.putSync(p.key, p.value);
        }
        return undefined;
      });
    } finally {
      this.inTx = false;
    }
  }

  /** Flushes everything to disk (fsync) and closes. Idempotent. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = (async () => {
        await this.db.flushed;
        await new Promise<void>((resolve, reject) => {
          (this.db as unknown as { sync(cb: (err?: unknown) => void): void }).sync((err) =>
            err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
          );
        });
        await this.db.close();
      })();
    }
    return this.closing;
  }
}
