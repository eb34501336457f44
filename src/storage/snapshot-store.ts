// Snapshots on disk: `snap/snap_<index>/` holding `meta.json` (index, term, confState) and
// `data.bin`. A snapshot is written into a temporary directory, fsynced, renamed into place and
// the parent directory fsynced, so a crash leaves either the whole snapshot or none of it.
// The newest `keep` snapshots are kept; leftovers of interrupted writes are removed on open.

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import type { ConfState, Snapshot, SnapshotMeta } from '../raft/core/types.js';
import { StorageError } from './errors.js';
import { fsyncDir } from './fs-util.js';

const EMPTY_CONF: ConfState = { voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
export const EMPTY_SNAPSHOT: Snapshot = { meta: { index: 0, term: 0, confState: EMPTY_CONF }, data: new Uint8Array(0) };

export class SnapshotStore {
  private latest: Snapshot;

  private constructor(
    private readonly dir: string,
    private readonly keep: number,
    latest: Snapshot,
  ) {
    this.latest = latest;
  }

  static open(dir: string, keep = 2): SnapshotStore {
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir);
    for (const n of names) if (n.startsWith('tmp_')) rmSync(`${dir}/${n}`, { recursive: true, force: true });
    const indexes = names
      .filter((n) => /^snap_\d+$/.test(n))
      .map((n) => Number(n.slice(5)))
      .sort((a, b) => b - a);
    let latest = EMPTY_SNAPSHOT;
    if (indexes.length > 0) latest = SnapshotStore.read(`${dir}/snap_${pad(indexes[0]!)}`);
    return new SnapshotStore(dir, keep, latest);
  }

  private static read(path: string): Snapshot {
    try {
      const meta = JSON.parse(readFileSync(`${path}/meta.json`, 'utf8')) as SnapshotMeta & { dataBytes: number };
      const data = readFileSync(`${path}/data.bin`);
      if (data.byteLength !== meta.dataBytes) {
        throw new Error(`data.bin has ${data.byteLength} bytes, meta says ${meta.dataBytes}`);
      }
      return { meta: { index: meta.index, term: meta.term, confState: meta.confState }, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
    } catch (err) {
      throw new StorageError('CORRUPT_SNAPSHOT', `${path}: ${(err as Error).message}`);
    }
  }

  get snapshot(): Snapshot {
    return this.latest;
  }

  /** Writes a snapshot durably and makes it the latest; removes older ones beyond `keep`. */
  async save(snap: Snapshot): Promise<void> {
    if (snap.meta.index <= this.latest.meta.index) return;
    const tmp = `${this.dir}/tmp_${pad(snap.meta.index)}_${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    const meta = { index: snap.meta.index, term: snap.meta.term, confState: snap.meta.confState, dataBytes: snap.data.byteLength };
    await writeSynced(`${tmp}/data.bin`, snap.data);
    await writeSynced(`${tmp}/meta.json`, JSON.stringify(meta));
    await fsyncDir(tmp);
    const final = `${this.dir}/snap_${pad(snap.meta.index)}`;
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    await fsyncDir(this.dir);
    this.latest = snap;
    await this.prune();
  }

  private async prune(): Promise<void> {
    if (!existsSync(this.dir)) return;
    const indexes = readdirSync(this.dir)
      .filter((n) => /^snap_\d+$/.test(n))
      .map((n) => Number(n.slice(5)))
      .sort((a, b) => b - a);
    for (const i of indexes.slice(this.keep)) await rm(`${this.dir}/snap_${pad(i)}`, { recursive: true, force: true });
  }
}

async function writeSynced(path: string, data: Uint8Array | string): Promise<void> {
  await writeFile(path, data);
  const fh = await open(path, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

export function pad(n: number): string {
  return String(n).padStart(20, '0');
}
