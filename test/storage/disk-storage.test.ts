import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { RaftError } from '../../src/raft/core/errors.js';
import { MemoryStorage } from '../../src/raft/core/memory-storage.js';
import { seededRand } from '../../src/raft/core/random.js';
import type { RaftStorage } from '../../src/raft/core/storage.js';
import type { ConfState, Snapshot } from '../../src/raft/core/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { StorageError } from '../../src/storage/errors.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { ent, plain, range, recordingLogger, tmpDir } from './helpers.js';

const conf = (...voters: string[]): ConfState => ({ voters, votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false });
const snap = (index: number, term: number, c = conf('a'), data = new Uint8Array([index & 255])): Snapshot => ({ meta: { index, term, confState: c }, data });

test('disk storage: entries, hard state, ConfState and snapshot survive a reopen', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir);
  assert.deepEqual(s.initialState(), { hardState: { term: 0, vote: '', commit: 0 }, confState: conf() });
  s.setConfState(conf('a', 'b', 'c'));
  s.append(range(1, 50, 1));
  s.setHardState({ term: 2, vote: 'b', commit: 40 });
  await s.sync();
  await s.close();
  assert.throws(() => s.lastIndex(), (e: unknown) => e instanceof StorageError && e.code === 'CLOSED');

  const r = await DiskStorage.open(dir);
  assert.deepEqual(r.initialState(), { hardState: { term: 2, vote: 'b', commit: 40 }, confState: conf('a', 'b', 'c') });
  assert.equal(r.lastIndex(), 50);
  await r.saveSnapshot(snap(30, 1, conf('a', 'b')), 30);
  assert.deepEqual(r.initialState().confState, conf('a', 'b'), 'the snapshot carries the configuration now');
  await r.close();

  const again = await DiskStorage.open(dir);
  assert.equal(again.snapshot().meta.index, 30);
  assert.deepEqual([...again.snapshot().data], [30]);
  assert.deepEqual(plain(again.entries(31, 51, Infinity)), plain(range(31, 50, 1)));
  await again.close();
});

test('disk storage: a compaction margin keeps entries behind the snapshot', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir, { compactMarginEntries: 5 });
  s.append(range(1, 40, 1));
  await s.saveSnapshot(snap(30, 1), 30);
  assert.equal(s.firstIndex(), 26);
  assert.equal(s.term(25), 1);
  assert.throws(() => s.term(24), (e: unknown) => e instanceof RaftError && e.code === 'COMPACTED');
  await assert.rejects(s.saveSnapshot(snap(30, 1), 30), (e: unknown) => e instanceof RaftError && e.code === 'SNAPSHOT_OUT_OF_DATE');
  await s.close();
});

test('disk storage: a snapshot install interrupted before the log reset is completed on open', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir);
  s.append(range(1, 10, 1));
  await s.close();
  // The install wrote the snapshot durably, then the process died before dropping the log.
  const snaps = await SnapshotStore.open(join(dir, 'snap'));
  await snaps.save(snap(40, 3).meta, snap(40, 3).data);
  const logger = recordingLogger();
  const r = await DiskStorage.open(dir, { logger });
  assert.equal(r.firstIndex(), 41);
  assert.equal(r.lastIndex(), 40);
  assert.equal(r.term(40), 3);
  assert.equal(logger.warnings.length, 1);
  r.append([ent(41, 3)]);
  await r.close();
  const again = await DiskStorage.open(dir);
  assert.equal(again.lastIndex(), 41);
  await again.close();
});

test('disk storage: a snapshot inside the log with the same term keeps the log (crash before compaction)', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir);
  s.append(range(1, 10, 1));
  await s.close();
  const snaps = await SnapshotStore.open(join(dir, 'snap'));
  await snaps.save(snap(6, 1).meta, snap(6, 1).data);
  const r = await DiskStorage.open(dir);
  assert.equal(r.firstIndex(), 1);
  assert.equal(r.lastIndex(), 10);
  await r.close();
});

test('disk storage: installSnapshot replaces the log', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir, { segmentBytes: 300 });
  s.append(range(1, 20, 1));
  await s.sync();
  await s.installSnapshot(snap(50, 4, conf('x', 'y')));
  assert.equal(s.firstIndex(), 51);
  assert.equal(s.lastIndex(), 50);
  assert.equal(s.term(50), 4);
  assert.deepEqual(s.initialState().confState, conf('x', 'y'));
  s.append([ent(51, 4)]);
  await s.close();
  const r = await DiskStorage.open(dir);
  assert.equal(r.firstIndex(), 51);
  assert.equal(r.lastIndex(), 51);
  await r.close();
});

test('disk storage: a log that starts after the latest snapshot refuses to open', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir, { segmentBytes: 300 });
  s.append(range(1, 40, 1));
  await s.saveSnapshot(snap(30, 1), 30);
  await s.close();
  rmSync(join(dir, 'snap'), { recursive: true });
  await assert.rejects(DiskStorage.open(dir), (e: unknown) => e instanceof StorageError && e.code === 'CORRUPT_LOG' && /no snapshot/.test(e.message));
});

test('disk storage: a commit index beyond the log (crash between the two syncs) is clamped', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir);
  s.append(range(1, 10, 1));
  await s.close();
  const json = JSON.stringify({ term: 1, vote: 'a', commit: 25, confState: null });
  writeFileSync(join(dir, 'meta'), `RKVMETA1 ${crc32(json).toString(16).padStart(8, '0')} ${json}\n`);
  const r = await DiskStorage.open(dir, { logger: recordingLogger() });
  assert.deepEqual(r.initialState().hardState, { term: 1, vote: 'a', commit: 10 });
  await r.close();
});

test('disk storage: a lazily persisted commit index below the snapshot is raised to it', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir);
  s.append(range(1, 40, 1));
  s.setHardState({ term: 1, vote: 'a', commit: 5 });
  await s.sync();
  s.setHardState({ term: 1, vote: 'a', commit: 35 }); // commit alone: not written by sync()
  await s.sync();
  await s.saveSnapshot(snap(30, 1), 30);
  // A crash now (no close): the meta file still says commit 5.
  const r = await DiskStorage.open(dir);
  assert.deepEqual(r.initialState().hardState, { term: 1, vote: 'a', commit: 30 });
  await r.close();
  await s.close();
});

test('disk storage: the onRepair callback hears about repairs', async () => {
  const dir = tmpDir();
  const s = await DiskStorage.open(dir);
  s.append(range(1, 3, 1));
  await s.close();
  writeFileSync(join(dir, 'log', 'log_00000000000000000004.seg'), Buffer.alloc(5));
  const repairs: string[] = [];
  const r = await DiskStorage.open(dir, { onRepair: (m) => repairs.push(m) });
  assert.equal(repairs.length, 1);
  await r.close();
});

/** Compares every read of the RaftStorage interface, errors included. */
function assertSameReads(disk: RaftStorage, mem: RaftStorage, rand: { int(n: number): number }, at: string): void {
  const first = mem.firstIndex();
  const last = mem.lastIndex();
  assert.equal(disk.firstIndex(), first, `firstIndex ${at}`);
  assert.equal(disk.lastIndex(), last, `lastIndex ${at}`);
  assert.deepEqual(disk.snapshot().meta, mem.snapshot().meta, `snapshot ${at}`);
  assert.deepEqual([...disk.snapshot().data], [...mem.snapshot().data], `snapshot data ${at}`);
  for (let i = first - 1; i <= last; i++) assert.equal(disk.term(i), mem.term(i), `term(${i}) ${at}`);
  const code = (f: () => unknown): string => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return e instanceof RaftError ? e.code : String(e);
    }
  };
  if (first >= 2) assert.equal(code(() => disk.term(first - 2)), code(() => mem.term(first - 2)), `term below ${at}`);
  assert.equal(code(() => disk.term(last + 1)), 'UNAVAILABLE', `term above ${at}`);
  assert.equal(code(() => disk.entries(first - 1, last + 1, Infinity)), code(() => mem.entries(first - 1, last + 1, Infinity)), `entries below ${at}`);
  assert.equal(code(() => disk.entries(first, last + 2, Infinity)), code(() => mem.entries(first, last + 2, Infinity)), `entries above ${at}`);
  if (first <= last) {
    const lo = first + rand.int(last - first + 1);
    const hi = lo + 1 + rand.int(last - lo + 1);
    const maxBytes = rand.int(4) === 0 ? Infinity : rand.int(600);
    assert.deepEqual(plain(disk.entries(lo, hi, maxBytes)), plain(mem.entries(lo, hi, maxBytes)), `entries(${lo}, ${hi}, ${maxBytes}) ${at}`);
    assert.deepEqual(plain(disk.entries(first, last + 1, Infinity)), plain(mem.entries(first, last + 1, Infinity)), `all entries ${at}`);
  }
}

test('conformance: DiskStorage answers like MemoryStorage over a random sequence of operations', async () => {
  const dir = tmpDir();
  const opts = { segmentBytes: 700, cacheBytes: 300 };
  let disk = await DiskStorage.open(dir, opts);
  const mem = new MemoryStorage();
  const rand = seededRand(20261123);
  let term = 1;
  const counts = { append: 0, overwrite: 0, snapshot: 0, install: 0, sync: 0, reopen: 0 };
  for (let step = 0; step < 400; step++) {
    const first = mem.firstIndex();
    const last = mem.lastIndex();
    const op = rand.int(100);
    if (op < 45) {
      counts.append++;
      if (rand.int(8) === 0) term++;
      const ents = range(last + 1, last + 1 + rand.int(6), term, rand.int(80));
      disk.append(ents);
      mem.append(ents);
    } else if (op < 60 && last > mem.snapshot().meta.index) {
      // Raft never overwrites what a snapshot holds (it is committed).
      counts.overwrite++;
      term++;
      const s = mem.snapshot().meta.index;
      const from = Math.max(first, s + 1) + rand.int(last - Math.max(first, s + 1) + 1);
      const ents = range(from, from + rand.int(4), term, rand.int(50));
      disk.append(ents);
      mem.append(ents);
    } else if (op < 70 && last > mem.snapshot().meta.index) {
      counts.snapshot++;
      const s = mem.snapshot().meta.index;
      const idx = Math.max(first, s + 1) + rand.int(last - Math.max(first, s + 1) + 1);
      const compactIndex = Math.max(first - 1, idx - rand.int(8));
      const c = conf('a', String(idx));
      const data = new Uint8Array([idx & 255, step & 255]);
      await disk.saveSnapshot({ meta: { index: idx, term: mem.term(idx), confState: c }, data }, compactIndex);
      mem.createSnapshot(idx, c, data);
      mem.compact(compactIndex);
    } else if (op < 74) {
      counts.install++;
      term++;
      const idx = mem.snapshot().meta.index + 1 + rand.int(last + 10 - mem.snapshot().meta.index);
      const sn = snap(idx, term, conf('b', String(idx)));
      await disk.installSnapshot(sn);
      mem.applySnapshot(sn);
    } else if (op < 80) {
      counts.reopen++;
      const hs = { term, vote: `n${step % 3}`, commit: mem.lastIndex() };
      disk.setHardState(hs);
      mem.setHardState(hs);
      if (rand.int(2) === 0) await disk.sync();
      await disk.close();
      disk = await DiskStorage.open(dir, opts);
      assert.deepEqual(disk.initialState(), mem.initialState(), `initialState after reopen at step ${step}`);
      // Whole-segment compaction may leave more log after a reopen, never less.
      assert.ok(disk.firstIndex() <= mem.firstIndex(), `firstIndex after reopen at step ${step}`);
      await disk.compact(mem.firstIndex() - 1);
    } else {
      counts.sync++;
      await disk.sync();
    }
    assertSameReads(disk, mem, rand, `at step ${step}`);
  }
  await disk.close();
  for (const [k, n] of Object.entries(counts)) assert.ok(n > 5, `op ${k} ran ${n} times`);
});
