// Unit tests of the simulator's parts: the event queue, the network, the state machine and the
// checker's invariants.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntryType, type Message, MessageType } from '../../src/raft/core/types.js';
import { Checker, SimViolation } from '../../src/sim/checker.js';
import { EventQueue } from '../../src/sim/event-queue.js';
import { Network } from '../../src/sim/network.js';
import { stream } from '../../src/sim/rng.js';
import { KvStateMachine, decodeWrite, encodeWrite } from '../../src/sim/state-machine.js';
import { Trace } from '../../src/sim/trace.js';

test('event queue: runs by time, then in scheduling order', () => {
  const q = new EventQueue();
  const out: string[] = [];
  q.at(5, () => out.push('b'));
  q.at(1, () => out.push('a'));
  q.at(5, () => out.push('c'));
  q.at(3, () => q.after(2, () => out.push('d')));
  q.runUntil(10);
  assert.deepEqual(out, ['a', 'b', 'c', 'd']);
  assert.equal(q.now, 10);
});

test('rng streams are independent and reproducible', () => {
  const a = stream(1, 'network');
  const b = stream(1, 'network');
  const c = stream(1, 'disk');
  const xs = [a.int(1000), a.int(1000), a.int(1000)];
  assert.deepEqual(xs, [b.int(1000), b.int(1000), b.int(1000)]);
  assert.notDeepEqual(xs, [c.int(1000), c.int(1000), c.int(1000)]);
});

function net(): { q: EventQueue; n: Network; got: Message[]; dropped: string[] } {
  const q = new EventQueue();
  const got: Message[] = [];
  const dropped: string[] = [];
  const n = new Network(
    q,
    stream(1, 'net'),
    new Trace(q),
    { isUp: (id) => id !== 'down', deliver: (m) => got.push(m), dropped: (m, why) => dropped.push(`${m.to}:${why}`) },
    { minMs: 1, maxMs: 5, reorderMaxMs: 10 },
  );
  return { q, n, got, dropped };
}

const hb = (from: string, to: string): Message => ({ type: MessageType.Heartbeat, from, to, term: 1 });

test('network: partitions cut messages already in flight; heal restores', () => {
  const { q, n, got, dropped } = net();
  n.send(hb('a', 'b'));
  n.partition([['a'], ['b']]);
  q.runUntil(100);
  assert.equal(got.length, 0);
  assert.deepEqual(dropped, ['b:partition']);
  n.healAll();
  n.send(hb('a', 'b'));
  n.send(hb('a', 'down'));
  q.runUntil(200);
  assert.equal(got.length, 1);
  assert.deepEqual(dropped, ['b:partition', 'down:down']);
});

test('network: one-way cut drops one direction only', () => {
  const { q, n, got } = net();
  n.cutOneWay('a', 'b');
  n.send(hb('a', 'b'));
  n.send(hb('b', 'a'));
  q.runUntil(100);
  assert.deepEqual(got.map((m) => m.from), ['b']);
});

test('network: loss and duplication follow the rates', () => {
  const { q, n, got } = net();
  n.rates = { lossRate: 0, dupRate: 1, reorderRate: 0 };
  n.send(hb('a', 'b'));
  q.runUntil(100);
  assert.equal(got.length, 2);
  n.rates = { lossRate: 1, dupRate: 0, reorderRate: 0 };
  n.send(hb('a', 'b'));
  q.runUntil(200);
  assert.equal(got.length, 2);
});

test('state machine: applies writes, snapshots and restores', () => {
  const sm = new KvStateMachine();
  const e = (index: number, id: number, key: string) => ({ index, term: 1, type: EntryType.Normal, data: encodeWrite({ id, key }) });
  sm.apply({ index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) });
  sm.apply(e(2, 10, 'x'));
  sm.apply(e(3, 11, 'x'));
  assert.deepEqual(sm.read('x'), { id: 11, index: 3 });
  assert.deepEqual(decodeWrite(encodeWrite({ id: 5, key: 'k' })), { id: 5, key: 'k' });
  const copy = KvStateMachine.restore(sm.serialize(), 3, 1);
  assert.equal(copy.chain, sm.chain);
  assert.deepEqual(copy.ids, [10, 11]);
  assert.deepEqual(copy.read('x'), { id: 11, index: 3 });
});

test('checker: two leaders in one term', () => {
  const c = new Checker();
  c.onLeader('a', 1);
  c.onLeader('a', 1);
  c.onLeader('b', 2);
  assert.throws(() => c.onLeader('b', 1), (e: unknown) => e instanceof SimViolation && e.kind === 'election-safety');
});

test('checker: different entries applied at one index', () => {
  const c = new Checker();
  const a = { index: 1, term: 1, type: EntryType.Normal, data: encodeWrite({ id: 1, key: 'k' }) };
  const b = { index: 1, term: 2, type: EntryType.Normal, data: encodeWrite({ id: 2, key: 'k' }) };
  c.beforeApply('n1', a, 1, 1);
  assert.throws(() => c.beforeApply('n2', b, 1, 2), (e: unknown) => e instanceof SimViolation && e.kind === 'state-machine-safety');
});

test('checker: stale read', () => {
  const c = new Checker();
  c.onAck({ id: 1, key: 'k', index: 5, term: 1, node: 'n1', time: 0 });
  const floor = c.readFloor('k');
  assert.equal(floor, 5);
  c.onRead('n2', 'r1', 'k', floor, { id: 1, index: 5 }, 5, false);
  assert.throws(
    () => c.onRead('n2', 'r2', 'k', floor, { id: 0, index: 3 }, 4, true),
    (e: unknown) => e instanceof SimViolation && e.kind === 'stale-read',
  );
});
