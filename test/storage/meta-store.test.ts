import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StorageError } from '../../src/storage/errors.js';
import { META_FILE, MetaStore } from '../../src/storage/meta-store.js';
import { recordingLogger, tmpDir } from './helpers.js';

const conf = { voters: ['a', 'b', 'c'], votersOutgoing: [], learners: ['d'], learnersNext: [], autoLeave: false };

test('meta store: hard state and ConfState survive a reopen', async () => {
  const dir = tmpDir();
  const m = await MetaStore.open(dir);
  assert.deepEqual(m.hardState, { term: 0, vote: '', commit: 0 });
  assert.equal(m.confState, undefined);
  m.setHardState({ term: 4, vote: 'b', commit: 9 });
  m.setConfState(conf);
  assert.equal(m.needsSync(), true);
  await m.sync();
  assert.equal(m.needsSync(), false);
  assert.deepEqual(readdirSync(dir), [META_FILE], 'the temp file was renamed over the real one');
  const r = await MetaStore.open(dir);
  assert.deepEqual(r.hardState, { term: 4, vote: 'b', commit: 9 });
  assert.deepEqual(r.confState, conf);
});

test('meta store: a commit-only change is written lazily, and at close', async () => {
  const dir = tmpDir();
  const m = await MetaStore.open(dir);
  m.setHardState({ term: 1, vote: 'a', commit: 1 });
  await m.sync();
  m.setHardState({ term: 1, vote: 'a', commit: 5 });
  assert.equal(m.needsSync(), false);
  await m.sync();
  assert.equal((await MetaStore.open(dir)).hardState.commit, 1);
  await m.close();
  assert.equal((await MetaStore.open(dir)).hardState.commit, 5);
  assert.throws(() => m.setHardState({ term: 2, vote: '', commit: 5 }), (e: unknown) => e instanceof StorageError && e.code === 'CLOSED');
});

test('meta store: an interrupted write (leftover temp file) leaves the previous state', async () => {
  const dir = tmpDir();
  const m = await MetaStore.open(dir);
  m.setHardState({ term: 3, vote: 'c', commit: 2 });
  await m.sync();
  writeFileSync(join(dir, 'meta.tmp'), 'RKVMETA1 0000'); // the crash hit before the rename
  const logger = recordingLogger();
  const r = await MetaStore.open(dir, logger);
  assert.deepEqual(r.hardState, { term: 3, vote: 'c', commit: 2 });
  assert.deepEqual(readdirSync(dir), [META_FILE]);
  assert.equal(logger.infos.length, 1);
});

test('meta store: a damaged file refuses to open with CORRUPT_META', async () => {
  const dir = tmpDir();
  const m = await MetaStore.open(dir);
  m.setHardState({ term: 3, vote: 'c', commit: 2 });
  await m.sync();
  const path = join(dir, META_FILE);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"term":3', '"term":4'));
  await assert.rejects(MetaStore.open(dir), (e: unknown) => e instanceof StorageError && e.code === 'CORRUPT_META' && e.message.includes(path));
});
