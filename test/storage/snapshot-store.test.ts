import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StorageError } from '../../src/storage/errors.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { recordingLogger, tmpDir } from './helpers.js';

const conf = { voters: ['a'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
const meta = (index: number, term = 1) => ({ index, term, confState: conf });
const snapDirs = (dir: string) => readdirSync(dir).sort();

test('snapshot store: keeps the newest N, loads the latest on open', async () => {
  const dir = tmpDir();
  const s = await SnapshotStore.open(dir, { keep: 2 });
  assert.equal(s.latest().meta.index, 0);
  for (const i of [10, 20, 30]) await s.save(meta(i), new Uint8Array([i, i + 1]));
  assert.deepEqual(snapDirs(dir), ['snap_00000000000000000020', 'snap_00000000000000000030']);
  assert.deepEqual(s.indexes(), [30, 20]);
  assert.deepEqual([...s.latest().data], [30, 31]);
  await s.save(meta(30), new Uint8Array([9])); // already there: nothing happens
  assert.deepEqual([...s.latest().data], [30, 31]);
  const r = await SnapshotStore.open(dir, { keep: 2 });
  assert.deepEqual(r.latest().meta, meta(30));
  assert.deepEqual([...r.latest().data], [30, 31]);
  const one = await SnapshotStore.open(dir, { keep: 1 });
  assert.deepEqual(snapDirs(dir), ['snap_00000000000000000030']);
  assert.deepEqual(one.indexes(), [30]);
});

test('snapshot store: data streamed from chunks (sync or async) is loaded back when asked for', async () => {
  const dir = tmpDir();
  const s = await SnapshotStore.open(dir);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let k = 0; k < 5; k++) yield new Uint8Array(1000).fill(k + 1);
  }
  await s.save(meta(5), chunks());
  const data = s.latest().data;
  assert.equal(data.byteLength, 5000);
  assert.equal(data[4999], 5);
  await s.save(meta(6), [new Uint8Array([1]), new Uint8Array([2, 3])]);
  assert.deepEqual([...s.latest().data], [1, 2, 3]);
});

test('snapshot store: unfinished temp directories are removed on open', async () => {
  const dir = tmpDir();
  const s = await SnapshotStore.open(dir);
  await s.save(meta(7), new Uint8Array([7]));
  mkdirSync(join(dir, '.tmp-snap_00000000000000000009-1-0'));
  writeFileSync(join(dir, '.tmp-snap_00000000000000000009-1-0', 'data'), 'partial');
  const logger = recordingLogger();
  const r = await SnapshotStore.open(dir, { logger });
  assert.equal(r.latest().meta.index, 7);
  assert.deepEqual(snapDirs(dir), ['snap_00000000000000000007']);
  assert.equal(logger.infos.length, 1);
});

test('snapshot store: damaged data refuses to open with CORRUPT_SNAPSHOT', async () => {
  const dir = tmpDir();
  const s = await SnapshotStore.open(dir);
  await s.save(meta(7), new Uint8Array([1, 2, 3, 4]));
  writeFileSync(join(dir, 'snap_00000000000000000007', 'data'), new Uint8Array([1, 2, 3, 5]));
  await assert.rejects(SnapshotStore.open(dir), (e: unknown) => e instanceof StorageError && e.code === 'CORRUPT_SNAPSHOT');
});
