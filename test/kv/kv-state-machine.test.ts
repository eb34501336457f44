// RheaKV's operations on the KV state machine, over the in-memory engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type KvCommand, KvOp, type KvResult, decodeResult, encodeCommand } from '../../src/kv/commands.js';
import { MemoryEngine } from '../../src/kv/engine/memory-engine.js';
import { KvParameterError, KvStateMachine } from '../../src/kv/kv-state-machine.js';
import type { RegionMeta } from '../../src/kv/region.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (v: Uint8Array | null | undefined): string | null => (v ? new TextDecoder().decode(v) : null);

function harness(now = () => 1000) {
  const sm = new KvStateMachine(new MemoryEngine(), undefined, now);
  let index = 0;
  const write = (c: KvCommand): KvResult => {
    const data = sm.startTransaction(encodeCommand(c)) ?? encodeCommand(c);
    const [r] = sm.apply([{ index: ++index, term: 1, data }]) as Uint8Array[];
    return decodeResult(r!);
  };
  const read = (c: KvCommand): KvResult => decodeResult(sm.query(encodeCommand(c)));
  return { sm, write, read };
}

const value = (r: KvResult): string | null => {
  assert.equal(r.kind, 'value');
  return s((r as { value: Uint8Array | null }).value);
};

test('put, get, putIfAbsent, getAndPut, containsKey, multiGet', () => {
  const { write, read } = harness();
  write({ op: KvOp.Put, key: b('a'), value: b('1') });
  assert.equal(value(read({ op: KvOp.Get, key: b('a') })), '1');
  assert.equal(value(write({ op: KvOp.PutIfAbsent, key: b('a'), value: b('2') })), '1', 'returns the existing value');
  assert.equal(value(write({ op: KvOp.PutIfAbsent, key: b('b'), value: b('2') })), null, 'inserted');
  assert.equal(value(write({ op: KvOp.GetPut, key: b('a'), value: b('3') })), '1');
  assert.deepEqual(read({ op: KvOp.ContainsKey, key: b('a') }), { kind: 'bool', value: true });
  assert.deepEqual(read({ op: KvOp.ContainsKey, key: b('zz') }), { kind: 'bool', value: false });
  const m = read({ op: KvOp.MultiGet, keys: [b('a'), b('nope'), b('b')] });
  assert.deepEqual(m.kind === 'values' && m.values.map(s), ['3', null, '2']);
});

test('compareAndPut and compareAndPutAll (all or nothing); expect null means absent', () => {
  const { write, read } = harness();
  assert.deepEqual(write({ op: KvOp.ComparePut, key: b('x'), expect: null, value: b('1') }), { kind: 'bool', value: true });
  assert.deepEqual(write({ op: KvOp.ComparePut, key: b('x'), expect: b('0'), value: b('2') }), { kind: 'bool', value: false });
  assert.deepEqual(write({ op: KvOp.ComparePut, key: b('x'), expect: b('1'), value: b('2') }), { kind: 'bool', value: true });
  const all = (ex: string | null) => write({ op: KvOp.ComparePutAll, entries: [[b('x'), b('2'), b('3')], [b('y'), ex === null ? null : b(ex), b('9')]] });
  assert.deepEqual(all('wrong'), { kind: 'bool', value: false });
  assert.equal(value(read({ op: KvOp.Get, key: b('x') })), '2', 'nothing changed');
  assert.deepEqual(all(null), { kind: 'bool', value: true });
  assert.equal(value(read({ op: KvOp.Get, key: b('x') })), '3');
  assert.equal(value(read({ op: KvOp.Get, key: b('y') })), '9');
});

test('merge appends with a comma; delete, deleteList, deleteRange', () => {
  const { write, read } = harness();
  write({ op: KvOp.Merge, key: b('m'), value: b('a') });
  write({ op: KvOp.Merge, key: b('m'), value: b('b') });
  assert.equal(value(read({ op: KvOp.Get, key: b('m') })), 'a,b');
  write({ op: KvOp.PutList, entries: ['k1', 'k2', 'k3', 'k4', 'k5'].map((k) => [b(k), b(k)] as const) });
  write({ op: KvOp.Delete, key: b('k1') });
  write({ op: KvOp.DeleteList, keys: [b('k2'), b('nothing')] });
  write({ op: KvOp.DeleteRange, start: b('k3'), end: b('k5') });
  const all = read({ op: KvOp.Scan, start: null, end: null, limit: 0, returnValue: false });
  assert.deepEqual(all.kind === 'pairs' && all.pairs.map(([k]) => s(k)), ['k5', 'm']);
});

test('scan and reverse scan: bounds [start, end), limits, keys only', () => {
  const { write, read } = harness();
  write({ op: KvOp.PutList, entries: ['a', 'b', 'c', 'd', 'e'].map((k) => [b(k), b(k.toUpperCase())] as const) });
  const fwd = read({ op: KvOp.Scan, start: b('b'), end: b('e'), limit: 0, returnValue: true });
  assert.deepEqual(fwd.kind === 'pairs' && fwd.pairs.map(([k, v]) => `${s(k)}=${s(v)}`), ['b=B', 'c=C', 'd=D']);
  const rev = read({ op: KvOp.ReverseScan, start: b('b'), end: b('e'), limit: 2, returnValue: false });
  assert.deepEqual(rev.kind === 'pairs' && rev.pairs.map(([k, v]) => [s(k), v]), [['d', null], ['c', null]]);
});

test('sequences: getSequence hands out ranges, step 0 reads the latest, reset starts over', () => {
  const { write } = harness();
  assert.deepEqual(write({ op: KvOp.GetSequence, key: b('ids'), step: 10 }), { kind: 'sequence', start: 0, end: 10 });
  assert.deepEqual(write({ op: KvOp.GetSequence, key: b('ids'), step: 5 }), { kind: 'sequence', start: 10, end: 15 });
  assert.deepEqual(write({ op: KvOp.GetSequence, key: b('ids'), step: 0 }), { kind: 'sequence', start: 15, end: 15 });
  write({ op: KvOp.ResetSequence, key: b('ids') });
  assert.deepEqual(write({ op: KvOp.GetSequence, key: b('ids'), step: 1 }), { kind: 'sequence', start: 0, end: 1 });
});

test('locks: lease-based, re-entrant, stamped by the leader, fencing token only rises', () => {
  let clock = 1000;
  const { write } = harness(() => clock);
  const lock = (id: string, leaseMs = 100) => write({ op: KvOp.KeyLock, key: b('L'), acquirer: { id, leaseMs, stampMs: 0 }, keepLease: false }) as Extract<KvResult, { kind: 'lock' }>;
  const unlock = (id: string) => write({ op: KvOp.KeyLockRelease, key: b('L'), acquirer: { id, leaseMs: 0, stampMs: 0 } }) as Extract<KvResult, { kind: 'lock' }>;
  const a1 = lock('A');
  assert.ok(a1.success);
  const a2 = lock('A');
  assert.ok(a2.success && a2.count === 2 && a2.fencingToken === a1.fencingToken, 're-entrant, same token');
  const b1 = lock('B');
  assert.ok(!b1.success && b1.owner === 'A' && b1.remainingMs > 0, 'held by A');
  assert.ok(unlock('A').count === 1);
  assert.ok(unlock('A').success);
  const b2 = lock('B');
  assert.ok(b2.success && b2.fencingToken > a1.fencingToken, 'a new owner gets a higher token');
  clock += 500; // B's lease (100 ms from its stamp) expired by the leader's clock
  const a3 = lock('A');
  assert.ok(a3.success && a3.fencingToken > b2.fencingToken);
  assert.ok(!unlock('B').success, 'an expired holder cannot release');
});

test('nodeExecute runs a registered callback on the replica; unknown names are refused before logging', () => {
  const { sm, write } = harness();
  const seen: string[] = [];
  sm.registerCallback('echo', (p) => {
    seen.push(s(p)!);
    return b(`echo:${s(p)}`);
  });
  assert.equal(value(write({ op: KvOp.NodeExecute, name: 'echo', payload: b('hi') })), 'echo:hi');
  assert.deepEqual(seen, ['hi']);
  assert.throws(() => sm.startTransaction(encodeCommand({ op: KvOp.NodeExecute, name: 'nope', payload: b('') })), KvParameterError);
});

test('invalid parameters are refused in startTransaction (nothing logged)', () => {
  const { sm } = harness();
  const bad = (c: KvCommand, re: RegExp) => assert.throws(() => sm.startTransaction(encodeCommand(c)), (e: unknown) => e instanceof KvParameterError && re.test(e.message));
  bad({ op: KvOp.Put, key: new Uint8Array(0), value: b('v') }, /key must be a non-empty/);
  bad({ op: KvOp.Put, key: new Uint8Array(5000), value: b('v') }, /key of 5000 bytes exceeds 4096/);
  bad({ op: KvOp.Put, key: b('k'), value: new Uint8Array(2 * 1024 * 1024) }, /value of \d+ bytes exceeds/);
  bad({ op: KvOp.PutList, entries: [] }, /at least one entry/);
  bad({ op: KvOp.Get, key: b('k') }, /is a read/);
  assert.throws(() => sm.startTransaction(Uint8Array.of(0xee)), KvParameterError);
});

test('the applied index is stored with each batch; snapshots round-trip everything', () => {
  const { sm, write } = harness();
  write({ op: KvOp.Put, key: b('p'), value: b('1') });
  write({ op: KvOp.GetSequence, key: b('seq'), step: 7 });
  assert.equal(sm.lastAppliedIndex(), 2);
  const restarted = new KvStateMachine(sm.engine);
  assert.equal(restarted.lastAppliedIndex(), 2, 'read back from the engine');
  const image = sm.saveSnapshot();
  const other = new KvStateMachine(new MemoryEngine());
  other.loadSnapshot(image);
  assert.equal(other.lastAppliedIndex(), 2);
  assert.equal(s(decodeResultValue(other.query(encodeCommand({ op: KvOp.Get, key: b('p') })))), '1');
  let idx = 2;
  const [r] = other.apply([{ index: ++idx, term: 1, data: encodeCommand({ op: KvOp.GetSequence, key: b('seq'), step: 1 }) }]) as Uint8Array[];
  assert.deepEqual(decodeResult(r!), { kind: 'sequence', start: 7, end: 8 });
});

function decodeResultValue(x: Uint8Array): Uint8Array | null {
  const r = decodeResult(x);
  return r.kind === 'value' ? r.value : null;
}

test('rangeSplit moves the upper keys, sequences, locks and the fencing counter into the new region', async () => {
  const images: Array<{ child: RegionMeta; image: Uint8Array }> = [];
  const region: RegionMeta = { id: 'r1', startKey: new Uint8Array(0), endKey: new Uint8Array(0), epoch: { confVer: 1, version: 1 }, voters: ['a', 'b'], learners: [] };
  const sm = new KvStateMachine(new MemoryEngine(), undefined, () => 1000, {
    region,
    onSplit: async (child, image) => {
      images.push({ child, image });
    },
  });
  let index = 0;
  const write = async (c: KvCommand): Promise<KvResult> => {
    const data = sm.startTransaction(encodeCommand(c)) ?? encodeCommand(c);
    const [r] = await sm.apply([{ index: ++index, term: 1, data }]);
    return decodeResult(r!);
  };
  for (const k of ['a', 'c', 'm', 'x', 'z']) await write({ op: KvOp.Put, key: b(k), value: b(k.toUpperCase()) });
  await write({ op: KvOp.GetSequence, key: b('y-seq'), step: 10 });
  const lock1 = await write({ op: KvOp.KeyLock, key: b('a-lock'), acquirer: { id: 'o1', leaseMs: 5000, stampMs: 0 }, keepLease: false });
  assert.equal(lock1.kind === 'lock' && lock1.fencingToken, 1);
  assert.equal(s(sm.middleKey(2)), 'm', 'the middle of the user keys a c m x z');

  const split = { op: KvOp.RangeSplit, splitKey: b('m'), newRegionId: 'r2', expectVersion: 1, voters: ['a', 'b'], learners: [] } as const;
  const stale = await write({ ...split, expectVersion: 0 });
  assert.equal(stale.kind === 'error' && stale.code, 'INVALID_REGION_EPOCH', 'a split decided on another version is refused');
  assert.equal(images.length, 0);
  const r = await write(split);
  assert.deepEqual(r, { kind: 'split', left: 'r1', right: 'r2', splitKey: b('m') });
  assert.equal(sm.region.epoch.version, 2);
  assert.equal(s(sm.region.endKey), 'm');
  // The parent no longer answers for moved keys, and refuses writes to them.
  const q = decodeResult(sm.query(encodeCommand({ op: KvOp.Get, key: b('x') })) as Uint8Array);
  assert.equal(q.kind === 'error' && q.code, 'INVALID_REGION_EPOCH');
  const w = await write({ op: KvOp.Put, key: b('zz'), value: b('1') });
  assert.equal(w.kind === 'error' && w.code, 'INVALID_REGION_EPOCH');
  assert.equal(sm.keyCount(), 2, 'a and c stay');

  // The new region, from its image: keys, the sequence, a fencing counter that keeps rising.
  assert.equal(images.length, 1);
  const { child, image } = images[0]!;
  assert.equal(child.epoch.version, 2);
  assert.equal(s(child.startKey), 'm');
  const right = new KvStateMachine(new MemoryEngine(), undefined, () => 2000, { region: child });
  right.loadSnapshot({ index: 5, data: image });
  assert.equal(right.region.id, 'r2');
  assert.equal(right.keyCount(), 3);
  const got = decodeResult(right.query(encodeCommand({ op: KvOp.Get, key: b('x') })) as Uint8Array);
  assert.equal(got.kind === 'value' && s(got.value), 'X');
  const seq = decodeResult((right.apply([{ index: 6, term: 6, data: encodeCommand({ op: KvOp.GetSequence, key: b('y-seq'), step: 1 }) }]) as Uint8Array[])[0]!);
  assert.deepEqual(seq, { kind: 'sequence', start: 10, end: 11 });
  const lockData = right.startTransaction(encodeCommand({ op: KvOp.KeyLock, key: b('n-lock'), acquirer: { id: 'o2', leaseMs: 5000, stampMs: 0 }, keepLease: false }))!;
  const lock2 = decodeResult((right.apply([{ index: 7, term: 6, data: lockData }]) as Uint8Array[])[0]!);
  assert.equal(lock2.kind === 'lock' && lock2.fencingToken, 2, 'fencing tokens keep rising across the split');
});
