import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync, writeFileSync, writeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RaftError } from '../../src/raft/core/errors.js';
import { RECORD_OVERHEAD } from '../../src/storage/entry-codec.js';
import { StorageError } from '../../src/storage/errors.js';
import { LogStore } from '../../src/storage/log-store.js';
import { SEGMENT_HEADER_BYTES, segmentFileName } from '../../src/storage/segment.js';
import { ent, plain, range, recordingLogger, segFiles, tmpDir } from './helpers.js';

const isCode = (code: string) => (e: unknown) => e instanceof StorageError && e.code === code;

test('append, sync and reopen: entries and terms survive', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir);
  log.append(range(1, 60, 1));
  log.append(range(61, 100, 2, 300));
  assert.equal(log.lastIndex(), 100);
  await log.sync();
  // Durable without close: a second reader sees everything synced.
  const other = await LogStore.open(dir);
  assert.equal(other.lastIndex(), 100);
  await other.close();
  await log.close();
  const r = await LogStore.open(dir);
  assert.equal(r.firstIndex(), 1);
  assert.equal(r.lastIndex(), 100);
  assert.equal(r.term(0), 0);
  assert.equal(r.term(60), 1);
  assert.equal(r.term(61), 2);
  assert.deepEqual(plain(r.entries(1, 101, Infinity)), plain([...range(1, 60, 1), ...range(61, 100, 2, 300)]));
  await r.close();
});

test('close makes unsynced appends durable; a closed log refuses use with CLOSED', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir);
  log.append(range(1, 5, 1));
  await log.close();
  assert.throws(() => log.append([ent(6, 1)]), isCode('CLOSED'));
  await assert.rejects(log.sync(), isCode('CLOSED'));
  const r = await LogStore.open(dir);
  assert.equal(r.lastIndex(), 5);
  await r.close();
});

test('segments roll by size and on a term change; file names carry the first index', async () => {
  const dir = tmpDir();
  const recBytes = RECORD_OVERHEAD + 50;
  const perSeg = Math.floor((1000 - SEGMENT_HEADER_BYTES) / recBytes);
  const log = await LogStore.open(dir, { segmentBytes: 1000 });
  log.append(range(1, 40, 1, 50));
  await log.sync();
  const bySize = Math.ceil(40 / perSeg);
  assert.deepEqual(
    segFiles(dir),
    Array.from({ length: bySize }, (_, k) => segmentFileName(1 + k * perSeg)),
  );
  for (const f of segFiles(dir).slice(0, -1)) assert.ok(statSync(join(dir, f)).size <= 1000);
  log.append([ent(41, 2, 1)]); // the last segment has room, but the term changed
  await log.sync();
  assert.equal(segFiles(dir).length, bySize + 1);
  assert.equal(segFiles(dir).at(-1), 'log_00000000000000000041.seg');
  log.append([ent(42, 2, 5000)]); // bigger than a segment: gets one of its own
  log.append([ent(43, 2, 1)]);
  await log.sync();
  assert.deepEqual(segFiles(dir).slice(-2), [segmentFileName(42), segmentFileName(43)]);
  await log.close();
  const r = await LogStore.open(dir, { segmentBytes: 1000 });
  assert.equal(r.lastIndex(), 43);
  assert.equal(r.entries(42, 43, Infinity)[0]!.data.byteLength, 5000);
  await r.close();
});

test('suffix truncation across segments deletes later segments and truncates the file', async () => {
  const dir = tmpDir();
  const perSeg = Math.floor((600 - SEGMENT_HEADER_BYTES) / (RECORD_OVERHEAD + 40)); // 8
  const log = await LogStore.open(dir, { segmentBytes: 600 });
  log.append(range(1, 30, 1, 40));
  await log.sync();
  assert.deepEqual(segFiles(dir), [1, 9, 17, 25].map(segmentFileName));
  assert.equal(perSeg, 8);
  log.append(range(12, 15, 2, 40)); // conflict at 12: replaces 12..30
  assert.equal(log.lastIndex(), 15);
  assert.equal(log.term(11), 1);
  assert.equal(log.term(12), 2);
  await log.sync();
  assert.deepEqual(segFiles(dir), [1, 9, 12].map(segmentFileName));
  assert.equal(statSync(join(dir, segmentFileName(9))).size, SEGMENT_HEADER_BYTES + 3 * (RECORD_OVERHEAD + 40));
  // Truncating at a segment's first index keeps the file, emptied to its header.
  log.append(range(12, 13, 3, 7));
  await log.sync();
  assert.deepEqual(segFiles(dir), [1, 9, 12].map(segmentFileName));
  // Replacing within the same term rewrites in place, with different sizes: no old bytes survive.
  log.append([ent(13, 3, 100), ent(14, 3, 3)]);
  await log.close();
  const r = await LogStore.open(dir, { segmentBytes: 600 });
  assert.equal(r.lastIndex(), 14);
  assert.deepEqual(plain(r.entries(10, 15, Infinity)), plain([ent(10, 1, 40), ent(11, 1, 40), ent(12, 3, 7), ent(13, 3, 100), ent(14, 3, 3)]));
  await r.close();
});

test('truncation of entries that were never synced', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir, { segmentBytes: 300 });
  log.append(range(1, 20, 1, 20));
  log.append(range(5, 8, 2, 20)); // before any sync: the queued writes are simply overtaken
  assert.deepEqual(plain(log.entries(3, 9, Infinity)), plain([...range(3, 4, 1, 20), ...range(5, 8, 2, 20)]));
  await log.sync();
  await log.close();
  const r = await LogStore.open(dir, { segmentBytes: 300 });
  assert.equal(r.lastIndex(), 8);
  assert.deepEqual(plain(r.entries(1, 9, Infinity)), plain([...range(1, 4, 1, 20), ...range(5, 8, 2, 20)]));
  await r.close();
});

test('compact removes whole segments only; the log serves nothing at or below the point', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir, { segmentBytes: 600 });
  log.append(range(1, 30, 1, 40)); // segments 1, 9, 17, 25
  log.compact(20);
  assert.equal(log.firstIndex(), 21);
  assert.equal(log.term(20), 1);
  assert.equal(log.term(19), undefined);
  assert.throws(() => log.entries(20, 22, Infinity), (e: unknown) => e instanceof RaftError && e.code === 'COMPACTED');
  assert.equal(log.entries(21, 31, Infinity).length, 10);
  await log.sync();
  assert.deepEqual(segFiles(dir), [17, 25].map(segmentFileName));
  log.compact(30); // everything: the last segment stays
  await log.sync();
  assert.deepEqual(segFiles(dir), [segmentFileName(25)]);
  assert.equal(log.firstIndex(), 31);
  assert.equal(log.lastIndex(), 30);
  log.append([ent(31, 1, 40)]);
  await log.close();
  // After a reopen the base is the first segment on disk; its header gives the term before it.
  const r = await LogStore.open(dir, { segmentBytes: 600 });
  assert.equal(r.firstIndex(), 25);
  assert.equal(r.term(24), 1);
  assert.equal(r.lastIndex(), 31);
  await r.close();
});

test('reset drops the whole log; it continues after the given index and term', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir, { segmentBytes: 400 });
  log.append(range(1, 20, 1));
  await log.sync();
  log.reset(100, 7);
  assert.equal(log.firstIndex(), 101);
  assert.equal(log.lastIndex(), 100);
  assert.equal(log.term(100), 7);
  log.append(range(101, 103, 8));
  await log.close();
  assert.deepEqual(segFiles(dir), [segmentFileName(101)]);
  const r = await LogStore.open(dir);
  assert.equal(r.firstIndex(), 101);
  assert.equal(r.term(100), 7);
  assert.equal(r.lastIndex(), 103);
  await r.close();
});

test('the tail cache is bounded; evicted entries are read back from disk, limited by maxBytes', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir, { segmentBytes: 1000, cacheBytes: 500 });
  log.append(range(1, 60, 1, 40));
  // Nothing is written before sync(): every entry stays cached until it is.
  assert.equal(log.stats().cachedEntries, 60);
  await log.sync();
  const cached = log.stats().cachedEntries;
  assert.ok(cached > 0 && cached <= 8, `cache holds ${cached} entries`);
  assert.ok(log.stats().cacheBytes <= 500);
  assert.deepEqual(plain(log.entries(1, 61, Infinity)), plain(range(1, 60, 1, 40)));
  // maxBytes counts data + 24 per entry: 64 here. Across segment boundaries and into the cache.
  assert.equal(log.entries(1, 61, 200).length, 3);
  assert.equal(log.entries(1, 61, 0).length, 1);
  assert.equal(log.entries(10, 61, 64 * 45).length, 45);
  assert.deepEqual(log.entries(5, 5, Infinity), []);
  assert.throws(() => log.entries(59, 62, Infinity), (e: unknown) => e instanceof RaftError && e.code === 'UNAVAILABLE');
  await log.close();
});

test('concurrent sync() callers share flushes (group commit)', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir);
  log.append(range(1, 10, 1));
  const before = log.stats().flushes;
  await Promise.all(Array.from({ length: 20 }, () => log.sync()));
  assert.equal(log.stats().flushes - before, 1);
  // While one flush runs, later callers share the single next one.
  log.append([ent(11, 1)]);
  const p1 = log.sync();
  log.append([ent(12, 1)]);
  const p2 = log.sync();
  log.append([ent(13, 1)]);
  const p3 = log.sync();
  assert.equal(p2, p3);
  await Promise.all([p1, p2, p3]);
  assert.equal(log.stats().flushes - before, 3);
  // Nothing new: resolves without a flush.
  await log.sync();
  assert.equal(log.stats().flushes - before, 3);
  await log.close();
});

test('a large unsynced backlog is flushed in the background', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir, { maxBufferedBytes: 4096 });
  log.append(range(1, 10, 1, 100));
  assert.equal(log.stats().flushes, 0);
  log.append(range(11, 60, 1, 100));
  assert.equal(log.stats().flushes, 1);
  await log.close();
});

test('a torn last record (partial frame) is cut off on open and logged', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir);
  log.append(range(1, 10, 1));
  await log.close();
  const file = join(dir, segFiles(dir).at(-1)!);
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([40, 0, 0, 0, 1, 2, 3]), 0, 7, size); // a crash mid-write
  closeSync(fd);
  const logger = recordingLogger();
  const r = await LogStore.open(dir, { logger });
  assert.equal(r.lastIndex(), 10);
  assert.equal(logger.warnings.length, 1);
  assert.ok(logger.warnings[0]!.includes(file) && logger.warnings[0]!.includes(`byte offset ${size}`), logger.warnings[0]);
  assert.equal(statSync(file).size, size);
  r.append([ent(11, 1)]);
  await r.close();
  const again = await LogStore.open(dir);
  assert.equal(again.lastIndex(), 11);
  await again.close();
});

test('a bad checksum in the final record of the last segment is a torn write', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir);
  log.append(range(1, 10, 1, 30));
  await log.close();
  const file = join(dir, segFiles(dir)[0]!);
  const buf = readFileSync(file);
  buf[buf.length - 3]! ^= 0xff;
  writeFileSync(file, buf);
  const logger = recordingLogger();
  const r = await LogStore.open(dir, { logger });
  assert.equal(r.lastIndex(), 9);
  assert.equal(logger.warnings.length, 1);
  await r.close();
});

test('a zero-filled hole in the unsynced tail (pages written back out of order) is a torn write', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir);
  log.append(range(1, 100, 1, 100)); // 125-byte records, ~12.5 KiB
  await log.close();
  const file = join(dir, segFiles(dir)[0]!);
  const buf = readFileSync(file);
  buf.fill(0, 8192, 12288); // the third page never reached the disk; the fourth did
  writeFileSync(file, buf);
  const r = await LogStore.open(dir, { logger: recordingLogger() });
  const lastWhole = Math.floor((8192 - SEGMENT_HEADER_BYTES) / 125); // records entirely before the hole
  assert.equal(r.lastIndex(), lastWhole);
  assert.deepEqual(plain(r.entries(1, lastWhole + 1, Infinity)), plain(range(1, lastWhole, 1, 100)));
  await r.close();
});

test('a flipped byte in the middle of a segment refuses to open with CORRUPT_LOG naming file and offset', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir);
  log.append(range(1, 10, 1, 20));
  await log.close();
  const file = join(dir, segFiles(dir)[0]!);
  const rec = RECORD_OVERHEAD + 20;
  const at = SEGMENT_HEADER_BYTES + 4 * rec; // the 5th record
  for (const pos of [at + 20, at + 1]) {
    // a byte of the body, then of the length field
    const buf = readFileSync(file);
    const orig = buf[pos]!;
    buf[pos] = orig ^ 0x5a;
    writeFileSync(file, buf);
    await assert.rejects(
      LogStore.open(dir),
      (e: unknown) => e instanceof StorageError && e.code === 'CORRUPT_LOG' && e.message.includes(file) && e.message.includes(`byte offset ${at}`),
    );
    buf[pos] = orig;
    writeFileSync(file, buf);
  }
  const ok = await LogStore.open(dir);
  assert.equal(ok.lastIndex(), 10);
  await ok.close();
});

test('damage to a segment that is not the last is never treated as torn', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir, { segmentBytes: 600 });
  log.append(range(1, 20, 1, 40)); // segments 1, 9, 17
  await log.close();
  const file = join(dir, segmentFileName(1));
  const buf = readFileSync(file);
  buf[buf.length - 2]! ^= 1; // the final record of the first segment
  writeFileSync(file, buf);
  await assert.rejects(LogStore.open(dir, { segmentBytes: 600 }), (e: unknown) => e instanceof StorageError && e.code === 'CORRUPT_LOG' && e.message.includes(file));
});

test('a missing segment in the middle refuses to open', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir, { segmentBytes: 600 });
  log.append(range(1, 30, 1, 40)); // segments 1, 9, 17, 25
  await log.close();
  unlinkSync(join(dir, segmentFileName(9)));
  await assert.rejects(LogStore.open(dir), (e: unknown) => e instanceof StorageError && e.code === 'CORRUPT_LOG' && /missing/.test(e.message));
});

test('a half-created last segment (header never written) is removed on open', async () => {
  const dir = tmpDir();
  const log = await LogStore.open(dir);
  log.append(range(1, 5, 1));
  await log.close();
  writeFileSync(join(dir, segmentFileName(6)), Buffer.alloc(10));
  const logger = recordingLogger();
  const r = await LogStore.open(dir, { logger });
  assert.equal(r.lastIndex(), 5);
  assert.deepEqual(segFiles(dir), [segmentFileName(1)]);
  assert.match(logger.warnings[0]!, /half-created/);
  r.append([ent(6, 2)]);
  await r.close();
});

test('bad options are refused with INVALID_ARGUMENT', async () => {
  await assert.rejects(LogStore.open(tmpDir(), { segmentBytes: 0 }), isCode('INVALID_ARGUMENT'));
  await assert.rejects(LogStore.open(tmpDir(), { cacheBytes: -1 }), isCode('INVALID_ARGUMENT'));
});
