// Snapshots on disk, one directory each:
//
//   <dir>/snap_<index, 20 digits>/meta   RKVSNAP1 <crc32 of JSON, 8 hex> <JSON>\n
//                                         JSON: {index, term, confState, dataBytes, dataCrc}
//   <dir>/snap_<index, 20 digits>/data   the state-machine image
//
// A snapshot is written into a temporary directory `<dir>/.tmp-snap_<index>-...`, both files
// fdatasync'ed, the temporary directory fsync'ed, renamed into place and `<dir>` fsync'ed: a crash
// leaves the whole snapshot or none of it. Leftover temporary directories are removed on open.
// The newest `keep` snapshots are kept (default 2), older ones removed after each save. The data
// may be given as bytes or as a (sync or async) iterable of chunks, streamed to the file.

import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { EMPTY_CONF_STATE } from '../raft/core/memory-storage.js';
import type { Snapshot, SnapshotMeta } from '../raft/core/types.js';
import { StorageError, ioError } from './errors.js';
import { fsyncDir, pad20, writeFully } from './fs-util.js';
import { type StorageLogger, noopStorageLogger } from './logger.js';
import { isConfState } from './meta-store.js';

export const EMPTY_SNAPSHOT: Snapshot = { meta: { index: 0, term: 0, confState: EMPTY_CONF_STATE }, data: new Uint8Array(0) };

export type SnapshotData = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface SnapshotStoreOptions {
  /** Snapshots kept on disk, newest first. Default 2 (at least 1). */
  keep?: number;
  logger?: StorageLogger;
}

const DIR_RE = /^snap_(\d{20})$/;
const TMP_PREFIX = '.tmp-';
const MAGIC = 'RKVSNAP1';

interface StoredMeta extends SnapshotMeta {
  readonly dataBytes: number;
  readonly dataCrc: number;
}

export class SnapshotStore {
  /** Indexes of the snapshots on disk, newest first. */
  private onDisk: number[];
  private latestMeta: StoredMeta | undefined;
  /** Data of the latest snapshot, loaded when first asked for if it was streamed in. */
  private latestData: Uint8Array | undefined;
  private tmpSeq = 0;

  private constructor(
    readonly dir: string,
    private readonly keep: number,
    private readonly logger: StorageLogger,
    onDisk: number[],
  ) {
    this.onDisk = onDisk;
  }

  /** Opens (creating if needed) the store, removes leftovers, and loads the latest snapshot. */
  static async open(dir: string, opts: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
    const keep = opts.keep ?? 2;
    if (!Number.isSafeInteger(keep) || keep < 1) throw new StorageError('INVALID_ARGUMENT', `keep must be an integer >= 1, got ${keep}`);
    const logger = opts.logger ?? noopStorageLogger;
    try {
      await mkdir(dir, { recursive: true });
      const names = await readdir(dir);
      for (const n of names) {
        if (!n.startsWith(TMP_PREFIX)) continue;
        await rm(`${dir}/${n}`, { recursive: true, force: true });
        logger.info(`removed an unfinished snapshot ${dir}/${n} (a write interrupted by a crash)`);
      }
      const indexes = names
        .map((n) => DIR_RE.exec(n))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => b - a);
      const store = new SnapshotStore(dir, keep, logger, indexes);
      if (indexes.length > 0) {
        const index = indexes[0]!;
        store.latestMeta = await store.readMeta(index);
        store.latestData = verifyData(store.dataPath(index), await readFile(store.dataPath(index)), store.latestMeta);
      }
      await store.prune();
      return store;
    } catch (err) {
      throw ioError(`open snapshot store ${dir}`, err);
    }
  }

  /** The latest snapshot (an empty one at index 0 if there is none). */
  latest(): Snapshot {
    const m = this.latestMeta;
    if (!m) return EMPTY_SNAPSHOT;
    if (!this.latestData) {
      const path = this.dataPath(m.index);
      let buf: Buffer;
      try {
        buf = readFileSync(path);
      } catch (err) {
        throw ioError(`read of snapshot ${path}`, err);
      }
      this.latestData = verifyData(path, buf, m);
    }
    return { meta: { index: m.index, term: m.term, confState: m.confState }, data: this.latestData };
  }

  /** Indexes of the snapshots on disk, newest first. */
  indexes(): readonly number[] {
    return this.onDisk;
  }

  /**
   * Writes a snapshot durably. It becomes the latest if it is newer than the latest; the oldest
   * beyond `keep` are removed. Saving an index already on disk does nothing (same index, same
   * committed state).
   */
  async save(meta: SnapshotMeta, data: SnapshotData): Promise<void> {
    const name = `snap_${pad20(meta.index)}`;
    if (this.onDisk.includes(meta.index)) return;
    const tmp = `${this.dir}/${TMP_PREFIX}${name}-${process.pid}-${this.tmpSeq++}`;
    let stored: StoredMeta;
    let bytes: Uint8Array | undefined;
    try {
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp);
      const fh = await open(`${tmp}/data`, 'wx');
      let dataBytes = 0;
      let dataCrc = 0;
      try {
        const write = async (chunk: Uint8Array): Promise<void> => {
          await writeFully(fh, [chunk], dataBytes);
          dataBytes += chunk.byteLength;
          dataCrc = crc32(chunk, dataCrc);
        };
        if (data instanceof Uint8Array) {
          bytes = data;
          await write(data);
        } else if (Symbol.asyncIterator in data) {
          for await (const chunk of data) await write(chunk);
        } else {
          for (const chunk of data) await write(chunk);
        }
        await fh.datasync();
      } finally {
        await fh.close();
      }
      stored = { index: meta.index, term: meta.term, confState: meta.confState, dataBytes, dataCrc };
      const mh = await open(`${tmp}/meta`, 'wx');
      try {
        await mh.writeFile(formatMeta(stored));
        await mh.datasync();
      } finally {
        await mh.close();
      }
      await fsyncDir(tmp);
      await rename(tmp, `${this.dir}/${name}`);
      await fsyncDir(this.dir);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
      throw ioError(`write of snapshot ${this.dir}/${name}`, err);
    }
    this.onDisk = [...this.onDisk, meta.index].sort((a, b) => b - a);
    if (!this.latestMeta || meta.index > this.latestMeta.index) {
      this.latestMeta = stored;
      this.latestData = bytes;
    }
    await this.prune();
  }

  private async prune(): Promise<void> {
    const old = this.onDisk.slice(this.keep);
    if (old.length === 0) return;
    try {
      for (const index of old) await rm(`${this.dir}/snap_${pad20(index)}`, { recursive: true, force: true });
      await fsyncDir(this.dir);
    } catch (err) {
      throw ioError(`removal of old snapshots in ${this.dir}`, err);
    }
    this.onDisk = this.onDisk.slice(0, this.keep);
    this.logger.info(`removed ${old.length} old snapshot(s) in ${this.dir}`, { indexes: old });
  }

  private dataPath(index: number): string {
    return `${this.dir}/snap_${pad20(index)}/data`;
  }

  private async readMeta(index: number): Promise<StoredMeta> {
    const path = `${this.dir}/snap_${pad20(index)}/meta`;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new StorageError('CORRUPT_SNAPSHOT', `${path}: cannot read: ${(err as Error).message}`, { cause: err });
    }
    return parseMeta(path, text, index);
  }
}

function formatMeta(m: StoredMeta): string {
  const json = JSON.stringify({ index: m.index, term: m.term, confState: m.confState, dataBytes: m.dataBytes, dataCrc: m.dataCrc });
  return `${MAGIC} ${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

function parseMeta(path: string, text: string, index: number): StoredMeta {
  const bad = (why: string): StorageError => new StorageError('CORRUPT_SNAPSHOT', `${path}: ${why}`);
  const m = /^RKVSNAP1 ([0-9a-f]{8}) (.*)\n$/s.exec(text);
  if (!m) throw bad('not a raftkv snapshot meta file (bad header or truncated)');
  if (parseInt(m[1]!, 16) !== crc32(m[2]!)) throw bad('checksum mismatch');
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(m[2]!) as Record<string, unknown>;
  } catch (err) {
    throw bad(`cannot parse: ${(err as Error).message}`);
  }
  const ok =
    o.index === index &&
    Number.isSafeInteger(o.term) &&
    isConfState(o.confState) &&
    Number.isSafeInteger(o.dataBytes) &&
    Number.isSafeInteger(o.dataCrc);
  if (!ok) throw bad(`malformed or for another index (directory says ${index}): ${m[2]}`);
  return o as unknown as StoredMeta;
}

function verifyData(path: string, buf: Buffer, m: StoredMeta): Uint8Array {
  if (buf.byteLength !== m.dataBytes) {
    throw new StorageError('CORRUPT_SNAPSHOT', `${path}: ${buf.byteLength} bytes, the meta file says ${m.dataBytes}`);
  }
  const crc = crc32(buf);
  if (crc !== m.dataCrc) throw new StorageError('CORRUPT_SNAPSHOT', `${path}: data checksum mismatch`);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
