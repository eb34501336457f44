import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MemoryStorage } from '../../src/raft/core/memory-storage.js';
import { seededRand } from '../../src/raft/core/random.js';
import { type Entry, EntryType } from '../../src/raft/core/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { StorageError } from '../../src/storage/errors.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'raftkv-storage-'));
  dirs.push(d);
  return d;
}
const ent = (index: number, term: number, size = 10): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array(size).fill(index % 251),
});
const range = (lo: number, hi: number, term: number, size = 10): Entry[] => Array.from({ length: hi - lo + 1 }, (_, k) => ent(lo + k, term, size));
const segs = (dir: string): string[] => readdirSync(join(dir, 'log')).filter((n) => n.endsWith('.seg')).sort();

test('append, sync and reopen: entries, terms and hard state survive', async () => {
  const dir = tmp();
  const s = DiskStorage.open(dir);
  s.append(range(1, 100, 1));
  s.setHardState({ term: 3, vote: 'n2', commit: 50 });
  await s.sync();
  await s.close();
  const r = DiskStorage.open(dir);
  assert.equal(r.firstIndex(), 1);
  assert.equal(r.lastIndex(), 100);
  assert.equal(r.term(77), 1);
  assert.deepEqual(r.initialState().hardState, { term: 3, vote: 'n2', commit: 50 });
  const got = r.entries(1, 101, Infinity);
  assert.equal(got.length, 100);
  assert.deepEqual([...got[41]!.data], [...ent(42, 1).data]);
  await r.close();
});

test('segments roll by size and on a term change', async () => {
  const dir = tmp();
  const s = DiskStorage.open(dir, { segmentBytes: 1000 });
  s.append(range(1, 40, 1, 50)); // ~75 B records: several segments
  const bySize = segs(dir).length;
  assert.ok(bySize >= 3, `rolled by size into ${bySize} segments`);
  s.append([ent(41, 2, 1)]); // new term -> new segment even though the last one has room
  assert.equal(segs(dir).length, bySize + 1);
  assert.equal(segs(dir).at(-1), `${String(41).padStart(20, '0')}.seg`);
  await s.close();
});

test('suffix truncation across segments replaces the conflicting tail', async () => {
  const dir = tmp();
  const s = DiskStorage.open(dir, { segmentBytes: 600 });
  s.append(range(1, 30, 1, 40));
  const before = segs(dir).length;
  s.append(range(12, 15, 2, 40)); // overwrite from 12 on
  assert.equal(s.lastIndex(), 15);
  assert.ok(segs(dir).length < before + 1);
  await s.sync();
  await s.close();
  const r = DiskStorage.open(dir, { segmentBytes: 600 });
  assert.equal(r.lastIndex(), 15);
  assert.equal(r.term(11), 1);
  assert.equal(r.term(12), 2);
  assert.equal(r.entries(10, 16, Infinity).map((e) => e.term).join(','), '1,1,2,2,2,2');
  await r.close();
});

test('compaction removes whole segments only, and old entries are read back from disk past the cache', async () => {
  const dir = tmp();
  const s = DiskStorage.open(dir, { segmentBytes: 800, cacheBytes: 500 });
  s.append(range(1, 60, 1, 40));
  await s.sync();
  // Cache holds only the newest few; the first entries come from the files.
  assert.deepEqual([...s.entries(1, 3, Infinity)[1]!.data], [...ent(2, 1, 40).data]);
  const nSegs = segs(dir).length;
  await s.saveSnapshot({ meta: { index: 30, term: 1, confState: { voters: ['a'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array([1, 2, 3]) }, 30);
  assert.ok(segs(dir).length < nSegs, 'some segments deleted');
  assert.ok(s.firstIndex() <= 31, 'never drops entries after the compaction point');
  assert.equal(s.term(30), 1);
  assert.equal(s.entries(31, 61, Infinity).length, 30);
  await s.close();
  const r = DiskStorage.open(dir);
  assert.equal(r.snapshot().meta.index, 30);
  assert.deepEqual([...r.snapshot().data], [1, 2, 3]);
  assert.equal(r.lastIndex(), 60);
  await r.close();
});

test('a torn last record is cut off on open', async () => {
  const dir = tmp();
  const s = DiskStorage.open(dir);
  s.append(range(1, 10, 1));
  await s.close();
  const file = join(dir, 'log', segs(dir).at(-1)!);
  const size = statSync(file).size;
  // Append half a record: a crash in the middle of a write.
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([40, 0, 0, 0, 1, 2, 3]), 0, 7, size);
  closeSync(fd);
  const repairs: string[] = [];
  const r = DiskStorage.open(dir, { onRepair: (m) => repairs.push(m) });
  assert.equal(r.lastIndex(), 10);
  assert.equal(repairs.length, 1);
  assert.match(repairs[0]!, /torn record at byte offset \d+/);
  assert.equal(statSync(file).size, size);
  r.append([ent(11, 1)]);
  await r.close();
  assert.equal(DiskStorage.open(dir).lastIndex(), 11);
});

test('a bad checksum in the middle of a segment refuses to open, naming the file and offset', async () => {
  const dir = tmp();
  const s = DiskStorage.open(dir);
  s.append(range(1, 10, 1));
  await s.close();
  const file = join(dir, 'log', segs(dir)[0]!);
  const buf = readFileSync(file);
  const recordSize = buf.length / 10;
  buf[recordSize * 4 + 20] ^= 0xff; // inside the 5th record's body
  writeFileSync(file, buf);
  assert.throws(
    () => DiskStorage.open(dir),
    (e: unknown) => e instanceof StorageError && e.code === 'CORRUPT_LOG' && e.message.includes(file) && e.message.includes(`byte offset ${recordSize * 4}`),
  );
});

test('installSnapshot replaces the log; a crash before the log reset is repaired on open', async () => {
  const dir = tmp();
  const s = DiskStorage.open(dir);
  s.append(range(1, 10, 1));
  await s.sync();
  const conf = { voters: ['a', 'b'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
  await s.installSnapshot({ meta: { index: 50, term: 4, confState: conf }, data: new Uint8Array([9]) });
  assert.equal(s.firstIndex(), 51);
  assert.equal(s.lastIndex(), 50);
  assert.equal(s.term(50), 4);
  s.append([ent(51, 4)]);
  await s.close();
  const r = DiskStorage.open(dir);
  assert.equal(r.lastIndex(), 51);
  assert.deepEqual(r.initialState().confState.voters, ['a', 'b']);
  await r.close();
});

test('conformance: DiskStorage answers like MemoryStorage over a random operation sequence', async () => {
  const dir = tmp();
  const disk = DiskStorage.open(dir, { segmentBytes: 700, cacheBytes: 300 });
  const mem = new MemoryStorage();
  const rand = seededRand(7);
  let term = 1;
  let snapIndex = 0;
  for (let step = 0; step < 300; step++) {
    const last = mem.lastIndex();
    const op = rand.int(10);
    if (op < 6) {
      const n = 1 + rand.int(5);
      if (rand.int(6) === 0) term++;
      const ents = range(last + 1, last + n, term, 5 + rand.int(60));
      disk.append(ents);
      mem.append(ents);
    } else if (op < 8 && last > snapIndex + 2) {
      // overwrite a suffix above the snapshot
      const from = snapIndex + 1 + rand.int(last - snapIndex);
      term++;
      const ents = range(from, from + rand.int(3), term, 8);
      disk.append(ents);
      mem.append(ents);
    } else if (op === 8 && last > snapIndex + 5) {
      const idx = snapIndex + 1 + rand.int(last - snapIndex - 1);
      const t = mem.term(idx);
      const conf = { voters: ['a'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
      await disk.saveSnapshot({ meta: { index: idx, term: t, confState: conf }, data: new Uint8Array([idx & 255]) }, idx);
      mem.createSnapshot(idx, conf, new Uint8Array([idx & 255]));
      mem.compact(idx);
      snapIndex = idx;
    } else {
      await disk.sync();
    }
    assert.equal(disk.lastIndex(), mem.lastIndex(), `lastIndex at step ${step}`);
    assert.ok(disk.firstIndex() <= mem.firstIndex(), 'disk keeps at least as much log');
    const lo = mem.firstIndex();
    const hi = mem.lastIndex() + 1;
    if (lo < hi) {
      const a = disk.entries(lo, hi, Infinity);
      const b = mem.entries(lo, hi, Infinity);
      assert.deepEqual(a.map((e) => [e.index, e.term, e.data.byteLength]), b.map((e) => [e.index, e.term, e.data.byteLength]), `entries at step ${step}`);
      const mid = lo + rand.int(hi - lo);
      assert.equal(disk.term(mid), mem.term(mid));
    }
  }
  await disk.close();
  // And after a reopen.
  const r = DiskStorage.open(dir, { segmentBytes: 700 });
  assert.equal(r.lastIndex(), mem.lastIndex());
  for (let i = mem.firstIndex(); i <= mem.lastIndex(); i++) assert.equal(r.term(i), mem.term(i));
  await r.close();
});

test('a snapshot saved but the log not yet reset (crash mid-install) is reconciled on open', async () => {
  const { SnapshotStore } = await import('../../src/storage/snapshot-store.js');
  const dir = tmp();
  const s = DiskStorage.open(dir);
  s.append(range(1, 10, 1));
  await s.close();
  // The install wrote the snapshot, then the process died before resetting the log.
  const snaps = SnapshotStore.open(join(dir, 'snap'));
  const conf = { voters: ['a'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
  await snaps.save({ meta: { index: 40, term: 3, confState: conf }, data: new Uint8Array([1]) });
  const r = DiskStorage.open(dir);
  assert.equal(r.lastIndex(), 40);
  assert.equal(r.firstIndex(), 41);
  assert.equal(r.term(40), 3);
  assert.throws(() => r.term(5));
  await r.close();
});
