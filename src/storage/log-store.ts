// The Raft log on disk: a directory of segment files (see segment.ts for names and format).
//
// Writes. `append()` only updates the in-memory index and the tail cache and queues the encoded
// records; `sync()` hands everything queued to one flush that writes it (one writev per segment
// run) and makes it durable with one fdatasync per touched file, all through fs.promises, so the
// event loop never waits for the disk. Concurrent sync() callers share flushes (group-commit.ts).
// Queued data is also flushed in the background once `maxBufferedBytes` accumulate.
//
// Rolling. A new segment starts when the next record would take the current one past
// `segmentBytes`, or when the term changes (so each segment holds a single term).
//
// Truncation. Appending at an index <= lastIndex replaces that entry and everything after it:
// later segments are deleted and the segment holding the index is truncated (to just its
// header if the index is its first). Compaction (`compact(i)`) deletes only whole segments whose
// entries are all <= i, never the last one; entries up to i are no longer served even if still
// in a file.
//
// Crash ordering. The flush executes queued operations in order, with barriers (fdatasync of the
// files written so far, fsync of the directory if files were created or deleted) before creating
// a segment and before rewriting a truncated one. So on disk: a segment exists only if every
// segment before it is complete and durable; deleted later segments never reappear next to
// rewritten data; and new bytes are never mixed with stale ones. Only the last segment can hold
// a torn tail.
//
// Recovery (`open()`). Every header and record is checked (CRC, index continuity, one term per
// segment, terms not decreasing). Unusable bytes at the end of the last segment that look like an
// interrupted write (a zero-filled hole, or nothing valid after them) are cut off and logged; a
// last segment whose header never made it is removed. Anything else refuses to open with
// CORRUPT_LOG naming the file and the byte offset.
//
// Reads. The newest entries come from a tail cache bounded by `cacheBytes`; older ones are read
// synchronously (the core's storage interface is synchronous) with one pread per segment run,
// using the per-segment offset index, and re-verified.

import { mkdir, open, readFile, readdir, unlink } from 'node:fs/promises';
import { RaftError, invariant } from '../raft/core/errors.js';
import { entrySize } from '../raft/core/storage.js';
import type { Entry } from '../raft/core/types.js';
import { encodeRecords, recordSize } from './entry-codec.js';
import { StorageError, ioError } from './errors.js';
import { fsyncDir, writeFully } from './fs-util.js';
import { GroupCommit } from './group-commit.js';
import { type StorageLogger, noopStorageLogger } from './logger.js';
import { Segment, encodeSegmentHeader, parseSegmentFileName, scanSegment, segmentFileName } from './segment.js';
import { TailCache } from './tail-cache.js';

const MiB = 1024 * 1024;
/** What entrySize() adds to an entry's data bytes. */
const ENTRY_SIZE_OVERHEAD = entrySize({ term: 0, index: 0, type: 0, data: new Uint8Array(0) });

export interface LogStoreOptions {
  /** Roll to a new segment once the next record would pass this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Bytes of recent entries served from memory. Default 64 MiB. */
  cacheBytes?: number;
  /** Flush (write and sync) in the background once this much is queued. Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Told about repairs made on open. */
  logger?: StorageLogger;
}

interface WriteOp {
  readonly kind: 'write';
  readonly seg: Segment;
  readonly pos: number;
  readonly bufs: Buffer[];
  bytes: number;
  /** Lowest entry index in the write (Infinity for a header alone): pins the cache from there. */
  firstIndex: number;
}

type Op =
  | { readonly kind: 'create'; readonly seg: Segment }
  | WriteOp
  | { readonly kind: 'truncate'; readonly seg: Segment; readonly size: number }
  | { readonly kind: 'delete'; readonly seg: Segment };

export class LogStore {
  private segments: Segment[] = [];
  /** Entries up to `base` are compacted; `baseTerm` is the term at base. */
  private base = 0;
  private baseTerm = 0;
  private cache = new TailCache(1);
  /** Operations not yet taken by a flush. */
  private ops: Op[] = [];
  private queuedBytes = 0;
  private flushes = 0;
  /** Writes not yet completed (queued or in flight): their entries must stay cached. */
  private readonly unwritten = new Set<WriteOp>();
  private readonly group: GroupCommit;
  private closed = false;
  private failure: StorageError | undefined;
  private readonly segmentBytes: number;
  private readonly maxCacheBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly logger: StorageLogger;

  private constructor(
    readonly dir: string,
    opts: LogStoreOptions,
  ) {
    this.segmentBytes = positive('segmentBytes', opts.segmentBytes ?? 64 * MiB);
    this.maxCacheBytes = nonNegative('cacheBytes', opts.cacheBytes ?? 64 * MiB);
    this.maxBufferedBytes = positive('maxBufferedBytes', opts.maxBufferedBytes ?? 16 * MiB);
    this.logger = opts.logger ?? noopStorageLogger;
    this.group = new GroupCommit(
      () => this.flush(),
      () => this.ops.length > 0,
    );
  }

  /** Opens (creating if needed) the log in `dir`, validating and repairing it (see above). */
  static async open(dir: string, opts: LogStoreOptions = {}): Promise<LogStore> {
    const log = new LogStore(dir, opts);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw ioError(`create log directory ${dir}`, err);
    }
    try {
      await log.recover();
    } catch (err) {
      await log.closeFiles();
      throw ioError(`open log ${dir}`, err);
    }
    return log;
  }

  private async recover(): Promise<void> {
    const firsts = (await readdir(this.dir))
      .map(parseSegmentFileName)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    let dirChanged = false;
    for (let k = 0; k < firsts.length; k++) {
      const first = firsts[k]!;
      const isLast = k === firsts.length - 1;
      const path = `${this.dir}/${segmentFileName(first)}`;
      const buf = await readFile(path);
      const scan = scanSegment(buf, first);
      const p = scan.problem;
      if (p && (!isLast || !p.torn)) {
        const what = scan.prevTerm === undefined ? 'header' : 'record';
        throw new StorageError('CORRUPT_LOG', `${path}: corrupt ${what} at byte offset ${p.offset}: ${p.reason}`);
      }
      if (p && scan.prevTerm === undefined) {
        // The last segment's header never reached the disk: it was being created in the crash.
        this.logger.warn(`removed a half-created log segment ${path} (${p.reason})`, { path, bytes: buf.length });
        await unlink(path);
        dirChanged = true;
        continue;
      }
      const prev = this.segments[this.segments.length - 1];
      if (prev && first !== prev.lastIndex + 1) {
        throw new StorageError(
          'CORRUPT_LOG',
          `${path}: starts at index ${first} but ${prev.path} ends at index ${prev.lastIndex} (a segment is missing or overlaps)`,
        );
      }
      if (prev && scan.prevTerm !== prev.lastTerm) {
        throw new StorageError('CORRUPT_LOG', `${path}: header says the previous term is ${scan.prevTerm}, but ${prev.path} ends with term ${prev.lastTerm}`);
      }
      const s = new Segment(this.dir, first, scan.prevTerm!);
      s.offsets = scan.offsets;
      s.term = scan.term;
      s.size = scan.validEnd;
      s.fh = await open(s.path, 'r+');
      this.segments.push(s);
      if (p) {
        await s.fh.truncate(scan.validEnd);
        await s.fh.datasync();
        this.logger.warn(`cut off a torn record at byte offset ${p.offset} of ${s.path} (${buf.length - p.offset} bytes: ${p.reason})`, {
          path: s.path,
          offset: p.offset,
          bytes: buf.length - p.offset,
        });
      }
    }
    if (dirChanged) await fsyncDir(this.dir);
    const head = this.segments[0];
    if (head) {
      this.base = head.first - 1;
      this.baseTerm = head.prevTerm;
    }
    this.cache.reset(this.lastIndex() + 1);
  }

  // ------------------------------------------------------------------------------- reads

  /** Index of the first entry served (compacted entries are not). */
  firstIndex(): number {
    return this.base + 1;
  }

  lastIndex(): number {
    const tail = this.segments[this.segments.length - 1];
    return tail ? Math.max(tail.lastIndex, this.base) : this.base;
  }

  /** Term of entry i for firstIndex() - 1 <= i <= lastIndex(), else undefined. */
  term(i: number): number | undefined {
    this.checkUsable();
    if (i === this.base) return this.baseTerm;
    if (i < this.base || i > this.lastIndex()) return undefined;
    return this.segmentOf(i).term;
  }

  /**
   * Entries [lo, hi): at least one if lo < hi, then no more than maxBytes in all (sizes as
   * entrySize() counts them). Throws RaftError COMPACTED / UNAVAILABLE like MemoryStorage.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    this.checkUsable();
    if (lo <= this.base) throw new RaftError('COMPACTED', `entries [${lo}, ${hi}) compacted at ${this.base}`);
    const last = this.lastIndex();
    if (hi > last + 1) throw new RaftError('UNAVAILABLE', `entries [${lo}, ${hi}) beyond last index ${last}`);
    const out: Entry[] = [];
    let size = 0;
    let i = lo;
    const cacheFirst = this.cache.firstIndex;
    while (i < hi) {
      if (i >= cacheFirst) {
        const e = this.cache.get(i);
        const s = entrySize(e);
        if (out.length > 0 && size + s > maxBytes) break;
        out.push(e);
        size += s;
        i++;
        continue;
      }
      // From the files: as many as fit, up to the segment's end or the cache, in one read.
      const seg = this.segmentOf(i);
      const stop = Math.min(hi, seg.lastIndex + 1, cacheFirst);
      let j = i;
      let full = false;
      while (j < stop) {
        const s = seg.dataBytes(j) + ENTRY_SIZE_OVERHEAD;
        if ((out.length > 0 || j > i) && size + s > maxBytes) {
          full = true;
          break;
        }
        size += s;
        j++;
      }
      if (j > i) for (const e of seg.read(i, j)) out.push(e);
      i = j;
      if (full) break;
    }
    return out;
  }

  private segmentOf(i: number): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.first <= i) lo = mid;
      else hi = mid - 1;
    }
    const seg = this.segments[lo];
    invariant(seg !== undefined && i >= seg.first && i <= seg.lastIndex, () => `no segment holds index ${i}`);
    return seg;
  }

  // ------------------------------------------------------------------------------ writes

  /**
   * Appends entries (consecutive indexes); an entry at an existing index replaces it and
   * everything after it. Entries at or below the compaction point are ignored. Visible to reads
   * at once; durable once a later sync() resolves.
   */
  append(entries: readonly Entry[]): void {
    this.checkUsable();
    if (entries.length === 0) return;
    for (let k = 1; k < entries.length; k++) {
      invariant(entries[k]!.index === entries[0]!.index + k, () => `append of non-consecutive indexes at ${entries[0]!.index + k}`);
    }
    let ents = entries;
    if (ents[0]!.index <= this.base) {
      if (ents[ents.length - 1]!.index <= this.base) return;
      ents = ents.slice(this.base + 1 - ents[0]!.index);
    }
    const first = ents[0]!.index;
    const last = this.lastIndex();
    invariant(first <= last + 1, () => `append gap: log ends at ${last}, got ${first}`);
    if (first <= last) this.truncateFrom(first);

    let prevTerm = this.lastTerm();
    let seg = this.segments[this.segments.length - 1];
    let run: Entry[] = [];
    let runPos = 0;
    for (const e of ents) {
      invariant(e.term >= prevTerm, () => `entry ${e.index} has term ${e.term} below the previous term ${prevTerm}`);
      const bytes = recordSize(e);
      if (!seg || (seg.count > 0 && (seg.term !== e.term || seg.size + bytes > this.segmentBytes))) {
        if (run.length > 0) this.queueWrite(seg!, runPos, run);
        run = [];
        seg = this.newSegment(e.index, prevTerm);
      }
      if (run.length === 0) runPos = seg.size;
      seg.push(e.term, bytes);
      run.push(e);
      this.cache.push(e);
      prevTerm = e.term;
    }
    this.queueWrite(seg!, runPos, run);
    this.evict();
    if (this.queuedBytes >= this.maxBufferedBytes) {
      // Nobody waits on it; a failure is kept in `failure` and fails the next call.
      this.group.request().catch(() => {});
    }
  }

  private lastTerm(): number {
    const tail = this.segments[this.segments.length - 1];
    if (!tail || tail.lastIndex <= this.base) return this.baseTerm;
    return tail.lastTerm;
  }

  private newSegment(first: number, prevTerm: number): Segment {
    const seg = new Segment(this.dir, first, prevTerm);
    this.segments.push(seg);
    this.ops.push({ kind: 'create', seg });
    this.queueBytes(seg, 0, encodeSegmentHeader(first, prevTerm), Infinity);
    return seg;
  }

  private queueWrite(seg: Segment, pos: number, run: readonly Entry[]): void {
    if (run.length === 0) return;
    this.queueBytes(seg, pos, encodeRecords(run), run[0]!.index);
  }

  private queueBytes(seg: Segment, pos: number, buf: Buffer, firstIndex: number): void {
    this.queuedBytes += buf.length;
    const prev = this.ops[this.ops.length - 1];
    if (prev && prev.kind === 'write' && prev.seg === seg && prev.pos + prev.bytes === pos) {
      prev.bufs.push(buf);
      prev.bytes += buf.length;
      prev.firstIndex = Math.min(prev.firstIndex, firstIndex);
      return;
    }
    const op: WriteOp = { kind: 'write', seg, pos, bufs: [buf], bytes: buf.length, firstIndex };
    this.ops.push(op);
    this.unwritten.add(op);
  }

  /** Removes entries at and after index i (base < i <= lastIndex). */
  private truncateFrom(i: number): void {
    for (let tail = this.segments[this.segments.length - 1]; tail && tail.first > i; tail = this.segments[this.segments.length - 1]) {
      this.segments.pop();
      this.ops.push({ kind: 'delete', seg: tail });
    }
    const seg = this.segments[this.segments.length - 1];
    invariant(seg !== undefined, () => `truncation at ${i}: no segment holds it`);
    const size = seg.truncateAt(i);
    this.ops.push({ kind: 'truncate', seg, size });
    this.cache.truncateFrom(i);
  }

  /**
   * Stops serving entries up to `index` and deletes the segments whose entries are all <= index
   * (never the last one). The deletions happen at the next sync().
   */
  compact(index: number): void {
    this.checkUsable();
    if (index <= this.base) return;
    const last = this.lastIndex();
    invariant(index <= last, () => `compact at ${index} beyond last index ${last}`);
    this.baseTerm = this.term(index)!;
    this.base = index;
    while (this.segments.length > 1 && this.segments[0]!.lastIndex <= index) {
      this.ops.push({ kind: 'delete', seg: this.segments.shift()! });
    }
    this.cache.dropBefore(index + 1);
  }

  /** Drops the whole log: it continues after (index, term), e.g. a snapshot from the leader. */
  reset(index: number, term: number): void {
    this.checkUsable();
    for (const seg of this.segments) this.ops.push({ kind: 'delete', seg });
    this.segments = [];
    this.base = index;
    this.baseTerm = term;
    this.cache.reset(index + 1);
  }

  /** Resolves once everything appended (and truncated, compacted, reset) before it is durable. */
  sync(): Promise<void> {
    try {
      this.checkUsable();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.group.request();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    this.flushes++;
    const ops = this.ops;
    this.ops = [];
    this.queuedBytes = 0;
    const unsynced = new Set<Segment>();
    const truncated = new Set<Segment>();
    let dirDirty = false;
    const barrier = async (): Promise<void> => {
      await Promise.all([...unsynced].map((s) => s.fh!.datasync()));
      unsynced.clear();
      truncated.clear();
      if (dirDirty) await fsyncDir(this.dir);
      dirDirty = false;
    };
    try {
      for (const op of ops) {
        switch (op.kind) {
          case 'create':
            // A segment may exist on disk only once everything before it is durable.
            await barrier();
            op.seg.fh = await open(op.seg.path, 'wx+');
            dirDirty = true;
            break;
          case 'write':
            // New bytes where old ones were cut: the cut (and deletions) must be durable first.
            if (truncated.has(op.seg)) await barrier();
            await writeFully(op.seg.fh!, op.bufs, op.pos);
            unsynced.add(op.seg);
            break;
          case 'truncate':
            await op.seg.fh!.truncate(op.size);
            unsynced.add(op.seg);
            truncated.add(op.seg);
            break;
          case 'delete': {
            unsynced.delete(op.seg);
            truncated.delete(op.seg);
            const fh = op.seg.fh;
            op.seg.fh = undefined;
            await fh?.close();
            await unlink(op.seg.path).catch((err: NodeJS.ErrnoException) => {
              if (err.code !== 'ENOENT') throw err;
            });
            dirDirty = true;
            break;
          }
        }
      }
      await barrier();
    } catch (err) {
      this.failure = ioError(`log ${this.dir}: write or sync failed; the log refuses further use`, err);
      throw this.failure;
    }
    for (const op of ops) if (op.kind === 'write') this.unwritten.delete(op);
    this.evict();
  }

  private evict(): void {
    let pin = Infinity;
    for (const op of this.unwritten) pin = Math.min(pin, op.firstIndex);
    this.cache.evict(this.maxCacheBytes, pin);
  }

  /** Syncs what is queued, then closes the files. Further calls fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.group.request();
    } finally {
      this.closed = true;
      await this.group.idle();
      await this.closeFiles();
    }
  }

  private async closeFiles(): Promise<void> {
    for (const seg of this.segments) {
      const fh = seg.fh;
      seg.fh = undefined;
      await fh?.close().catch(() => {});
    }
  }

  private checkUsable(): void {
    if (this.closed) throw new StorageError('CLOSED', `log ${this.dir} is closed`);
    if (this.failure) throw this.failure;
  }

  /** For tests and metrics. */
  stats(): { segments: number; cachedEntries: number; cacheBytes: number; queuedBytes: number; flushes: number } {
    return {
      segments: this.segments.length,
      cachedEntries: this.cache.length,
      cacheBytes: this.cache.bytes,
      queuedBytes: this.queuedBytes,
      flushes: this.flushes,
    };
  }
}

function positive(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new StorageError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${n}`);
  return n;
}

function nonNegative(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new StorageError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${n}`);
  return n;
}
