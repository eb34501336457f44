// The Raft log on disk: a directory of segment files named after the index of their first entry
// (`<first index, 20 digits>.seg`), each a sequence of checksummed records (entry-codec.ts).
//
// - Appends are written to the page cache at once (a memcpy); `sync()` makes everything written
//   so far durable with one fdatasync per dirty segment (group commit: concurrent callers share
//   a sync). The event loop never waits for the disk: fdatasync runs on the thread pool.
// - A segment rolls when it reaches `segmentBytes` or when the term changes.
// - Suffix truncation (an append over existing indexes) truncates the segment holding the first
//   overwritten index and deletes the segments after it. Prefix compaction deletes whole
//   segments only.
// - Recent entries are served from a tail cache bounded in bytes; older ones are read from the
//   files (checksums verified on every read).
// - Recovery: every record is checked; a torn last record of the last segment (a short frame,
//   zero fill, or a bad checksum on the final record) is cut off; any other bad record refuses
//   to open with CORRUPT_LOG naming the file and the byte offset.

import { closeSync, fdatasync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { RaftError, invariant } from '../raft/core/errors.js';
import { limitSize } from '../raft/core/storage.js';
import type { Entry } from '../raft/core/types.js';
import { type DecodeResult, decodeRecord, encodeRecord } from './entry-codec.js';
import { StorageError } from './errors.js';
import { fsyncDir } from './fs-util.js';
import { pad } from './snapshot-store.js';

export interface LogStoreOptions {
  /** Roll to a new segment file past this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Bytes of recent entries kept in memory. Default 64 MiB. */
  cacheBytes?: number;
  /** Told about repairs made on open (torn tail cut off). */
  onRepair?: (message: string) => void;
}

interface Segment {
  /** Index of the first entry; also the file name. */
  readonly first: number;
  readonly path: string;
  fd: number;
  /** Bytes in the file. */
  size: number;
  // invariant: offsets.length === terms.length === number of entries; entry first+k at offsets[k]
  offsets: number[];
  terms: number[];
}

const promisedDatasync = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));

export class LogStore {
  private readonly segments: Segment[] = [];
  /** The index just before the first entry kept, and its term if known. */
  private baseIndex = 0;
  private baseTerm: number | undefined = 0;
  // invariant: cache holds entries [cacheFirst, lastIndex()] (possibly empty), cacheBytes their size
  private cache: Entry[] = [];
  private cacheFirst = 1;
  private cacheBytes = 0;
  private readonly dirty = new Set<Segment>();
  private dirDirty = false;
  private closed = false;
  private syncing: Promise<void> = Promise.resolve();
  private queuedSync: Promise<void> | undefined;
  private readonly segmentBytes: number;
  private readonly maxCacheBytes: number;

  private constructor(
    private readonly dir: string,
    opts: LogStoreOptions,
  ) {
    this.segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
    this.maxCacheBytes = opts.cacheBytes ?? 64 * 1024 * 1024;
  }

  /** Opens (creating if needed) the log in `dir`, validating and repairing as described above. */
  static open(dir: string, opts: LogStoreOptions = {}): LogStore {
    mkdirSync(dir, { recursive: true });
    const log = new LogStore(dir, opts);
    log.recover(opts.onRepair ?? (() => {}));
    return log;
  }

  private recover(onRepair: (msg: string) => void): void {
    const names = readdirSync(this.dir)
      .filter((n) => /^\d{20}\.seg$/.test(n))
      .sort();
    let expected: number | undefined;
    for (let s = 0; s < names.length; s++) {
      const name = names[s]!;
      const isLast = s === names.length - 1;
      const path = `${this.dir}/${name}`;
      const first = Number(name.slice(0, 20));
      if (expected !== undefined && first !== expected) {
        throw new StorageError('CORRUPT_LOG', `${path}: segment starts at index ${first}, expected ${expected} (a segment is missing)`);
      }
      const buf = readFileSync(path);
      const seg: Segment = { first, path, fd: -1, size: 0, offsets: [], terms: [] };
      let off = 0;
      let prevTerm = this.segments.length > 0 ? lastTermOf(this.segments[this.segments.length - 1]!) : 0;
      while (off < buf.length) {
        const r: DecodeResult = decodeRecord(buf, off);
        if (r.kind !== 'ok') {
          const tornTail = isLast && (r.kind === 'short' || isZero(buf, off) || finalRecord(buf, off));
          if (!tornTail) {
            const why = r.kind === 'short' ? 'truncated record' : r.reason;
            throw new StorageError('CORRUPT_LOG', `${path}: corrupt record at byte offset ${off}: ${why}`);
          }
          onRepair(`${path}: cut off a torn record at byte offset ${off} (${buf.length - off} bytes)`);
          break;
        }
        const idx = first + seg.offsets.length;
        if (r.entry.index !== idx) {
          throw new StorageError('CORRUPT_LOG', `${path}: record at byte offset ${off} holds index ${r.entry.index}, expected ${idx}`);
        }
        if (r.entry.term < prevTerm) {
          throw new StorageError('CORRUPT_LOG', `${path}: record at byte offset ${off} has term ${r.entry.term} below the previous term ${prevTerm}`);
        }
        prevTerm = r.entry.term;
        seg.offsets.push(off);
        seg.terms.push(r.entry.term);
        off += r.size;
      }
      seg.fd = openSync(path, 'r+');
      if (off < buf.length) {
        ftruncateSync(seg.fd, off);
        this.dirty.add(seg);
      }
      seg.size = off;
      if (seg.offsets.length === 0 && !isLast) {
        // An empty segment in the middle cannot hold anything: drop it.
        closeSync(seg.fd);
        unlinkSync(path);
        this.dirDirty = true;
        continue;
      }
      this.segments.push(seg);
      expected = first + seg.offsets.length;
    }
    if (this.segments.length > 0) {
      this.baseIndex = this.segments[0]!.first - 1;
      this.baseTerm = this.baseIndex === 0 ? 0 : undefined;
    }
    this.cacheFirst = this.lastIndex() + 1;
  }

  // ---------------------------------------------------------------- reads

  firstIndex(): number {
    return this.baseIndex + 1;
  }

  lastIndex(): number {
    for (let s = this.segments.length - 1; s >= 0; s--) {
      const seg = this.segments[s]!;
      if (seg.offsets.length > 0) return seg.first + seg.offsets.length - 1;
    }
    return this.baseIndex;
  }

  /** Term of entry i, or undefined if unknown (compacted, or the unrecorded base). */
  term(i: number): number | undefined {
    if (i === this.baseIndex) return this.baseTerm;
    if (i < this.baseIndex || i > this.lastIndex()) return undefined;
    const seg = this.segmentOf(i);
    return seg.terms[i - seg.first];
  }

  /** Entries in [lo, hi) limited to maxBytes (at least one). */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    this.checkOpen();
    if (lo <= this.baseIndex) throw new RaftError('COMPACTED', `entries from ${lo} are compacted (first index ${this.firstIndex()})`);
    if (hi > this.lastIndex() + 1) throw new RaftError('UNAVAILABLE', `entries up to ${hi - 1} beyond last index ${this.lastIndex()}`);
    const out: Entry[] = [];
    let size = 0;
    let i = lo;
    while (i < hi && i < this.cacheFirst) {
      // From disk, one read per segment.
      const seg = this.segmentOf(i);
      const segLast = seg.first + seg.offsets.length - 1;
      const upto = Math.min(hi - 1, segLast, this.cacheFirst - 1);
      const start = seg.offsets[i - seg.first]!;
      const end = upto === segLast ? seg.size : seg.offsets[upto + 1 - seg.first]!;
      const buf = Buffer.allocUnsafe(end - start);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(seg.fd, buf, got, buf.length - got, start + got);
        if (n === 0) throw new StorageError('IO_ERROR', `${seg.path}: unexpected end of file at ${start + got}`);
        got += n;
      }
      let off = 0;
      for (let k = i; k <= upto; k++) {
        const r = decodeRecord(buf, off);
        if (r.kind !== 'ok') {
          throw new StorageError('CORRUPT_LOG', `${seg.path}: corrupt record at byte offset ${start + off} on read: ${r.kind === 'bad' ? r.reason : 'truncated'}`);
        }
        out.push(r.entry);
        size += r.entry.data.byteLength + 24;
        off += r.size;
        if (size > maxBytes && out.length > 0) return limitSize(out, maxBytes);
      }
      i = upto + 1;
    }
    for (; i < hi; i++) {
      const e = this.cache[i - this.cacheFirst]!;
      out.push(e);
      size += e.data.byteLength + 24;
      if (size > maxBytes) break;
    }
    return limitSize(out, maxBytes);
  }

  private segmentOf(i: number): Segment {
    // Binary search for the last segment whose first <= i.
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.first <= i) lo = mid;
      else hi = mid - 1;
    }
    const seg = this.segments[lo];
    invariant(seg !== undefined && i >= seg.first && i < seg.first + seg.offsets.length, () => `no segment holds index ${i}`);
    return seg;
  }

  // ---------------------------------------------------------------- writes

  /** Writes entries (replacing any at or after entries[0].index). Durable after sync(). */
  append(entries: readonly Entry[]): void {
    this.checkOpen();
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const last = this.lastIndex();
    invariant(first > this.baseIndex, () => `append at ${first} at or below the compacted base ${this.baseIndex}`);
    invariant(first <= last + 1, () => `append at ${first} leaves a gap after ${last}`);
    if (first <= last) this.truncateFrom(first);
    let seg = this.segments[this.segments.length - 1];
    // Records bound for `seg`, written with one syscall when the batch ends or the segment rolls.
    let batch: Buffer[] = [];
    let batchStart = seg?.size ?? 0;
    const flush = (): void => {
      if (!seg || batch.length === 0) return;
      const buf = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
      let written = 0;
      while (written < buf.length) written += writeSync(seg.fd, buf, written, buf.length - written, batchStart + written);
      batch = [];
      this.dirty.add(seg);
    };
    for (const e of entries) {
      const rec = encodeRecord(e);
      const segTerm = seg && seg.terms.length > 0 ? seg.terms[seg.terms.length - 1]! : undefined;
      if (!seg || (seg.offsets.length > 0 && (seg.size + rec.length > this.segmentBytes || segTerm !== e.term))) {
        flush();
        seg = this.newSegment(e.index);
        batchStart = 0;
      }
      batch.push(rec);
      seg.offsets.push(seg.size);
      seg.terms.push(e.term);
      seg.size += rec.length;
      this.cache.push(e);
      this.cacheBytes += e.data.byteLength + 24;
    }
    flush();
    this.evict();
  }

  private newSegment(first: number): Segment {
    const path = `${this.dir}/${pad(first)}.seg`;
    const fd = openSync(path, 'w+');
    const seg: Segment = { first, path, fd, size: 0, offsets: [], terms: [] };
    this.segments.push(seg);
    this.dirDirty = true;
    return seg;
  }

  /** Removes entries at and after index i. */
  private truncateFrom(i: number): void {
    while (this.segments.length > 0) {
      const seg = this.segments[this.segments.length - 1]!;
      if (seg.first < i || (seg.first === i && this.segments.length === 1)) {
        const k = i - seg.first;
        if (k < seg.offsets.length) {
          ftruncateSync(seg.fd, seg.offsets[k]!);
          seg.size = seg.offsets[k]!;
          seg.offsets.length = k;
          seg.terms.length = k;
          this.dirty.add(seg);
        }
        break;
      }
      closeSync(seg.fd);
      unlinkSync(seg.path);
      this.dirty.delete(seg);
      this.segments.pop();
      this.dirDirty = true;
    }
    if (i < this.cacheFirst) {
      this.cache = [];
      this.cacheBytes = 0;
      this.cacheFirst = i;
    } else {
      for (const e of this.cache.splice(i - this.cacheFirst)) this.cacheBytes -= e.data.byteLength + 24;
    }
  }

  private evict(): void {
    let k = 0;
    while (this.cacheBytes > this.maxCacheBytes && k < this.cache.length - 1) {
      this.cacheBytes -= this.cache[k]!.data.byteLength + 24;
      k++;
    }
    if (k > 0) {
      this.cache = this.cache.slice(k);
      this.cacheFirst += k;
    }
  }

  /**
   * Deletes whole segments whose entries are all <= index (never the last segment). The log
   * then starts right after the deleted ones; `termAtBase` records the term of the new base.
   */
  compact(index: number): void {
    this.checkOpen();
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      const segLast = seg.first + seg.offsets.length - 1;
      if (segLast > index) break;
      this.baseIndex = segLast;
      this.baseTerm = seg.terms[seg.terms.length - 1];
      closeSync(seg.fd);
      unlinkSync(seg.path);
      this.dirty.delete(seg);
      this.segments.shift();
      this.dirDirty = true;
    }
    if (this.cacheFirst <= this.baseIndex) {
      const drop = this.baseIndex + 1 - this.cacheFirst;
      for (const e of this.cache.splice(0, drop)) this.cacheBytes -= e.data.byteLength + 24;
      this.cacheFirst = this.baseIndex + 1;
    }
  }

  /** Drops the whole log; it continues after (index, term) (a snapshot from the leader). */
  reset(index: number, term: number): void {
    this.checkOpen();
    for (const seg of this.segments) {
      closeSync(seg.fd);
      unlinkSync(seg.path);
    }
    this.segments.length = 0;
    this.dirty.clear();
    this.dirDirty = true;
    this.baseIndex = index;
    this.baseTerm = term;
    this.cache = [];
    this.cacheBytes = 0;
    this.cacheFirst = index + 1;
  }

  /** The term of the base if a snapshot at exactly the base supplies it. */
  knowBase(index: number, term: number): void {
    if (index === this.baseIndex) this.baseTerm = term;
  }

  /** Makes all writes so far durable. Concurrent calls share one round of fsyncs. */
  sync(): Promise<void> {
    this.checkOpen();
    if (!this.queuedSync) {
      this.queuedSync = this.syncing.then(() => {
        this.queuedSync = undefined;
        return this.doSync();
      });
      this.syncing = this.queuedSync.catch(() => {});
    }
    return this.queuedSync;
  }

  private async doSync(): Promise<void> {
    const segs = [...this.dirty];
    this.dirty.clear();
    const dir = this.dirDirty;
    this.dirDirty = false;
    try {
      await Promise.all(
        segs.map((s) =>
          promisedDatasync(s.fd).catch((err: unknown) => {
            // A segment deleted while the sync was under way has nothing left to make durable.
            if (this.segments.includes(s)) throw err;
          }),
        ),
      );
      if (dir) await fsyncDir(this.dir);
    } catch (err) {
      throw new StorageError('IO_ERROR', `log sync failed in ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    for (const seg of this.segments) closeSync(seg.fd);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', `log ${this.dir} is closed`);
  }
}

function lastTermOf(seg: Segment): number {
  return seg.terms.length > 0 ? seg.terms[seg.terms.length - 1]! : 0;
}

function isZero(buf: Buffer, off: number): boolean {
  for (let i = off; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** The record at `off` claims to end exactly at the end of the file: it was the last write. */
function finalRecord(buf: Buffer, off: number): boolean {
  if (buf.length - off < 8) return true;
  return off + 8 + buf.readUInt32LE(off) === buf.length;
}
