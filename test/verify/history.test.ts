import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistoryError, HistoryRecorder, makeHistory } from '../../src/verify/history.js';

type In = { type: 'write'; value: number } | { type: 'read' };
type Out = { value?: number };

test('makeHistory drops fails, opens unknowns to +Infinity and keeps record ids', () => {
  const h = makeHistory<In, Out>([
    { clientId: 'a', input: { type: 'write', value: 1 }, output: {}, callTime: 0, returnTime: 5, outcome: 'ok' },
    { clientId: 'b', input: { type: 'write', value: 2 }, callTime: 1, returnTime: 3, outcome: 'fail' },
    { clientId: 'c', input: { type: 'write', value: 3 }, output: { value: 9 }, callTime: 2, returnTime: 40, outcome: 'unknown' },
  ]);
  assert.equal(h.length, 2);
  assert.deepEqual(
    h.map((o) => [o.id, o.outcome, o.returnTime]),
    [
      [0, 'ok', 5],
      [2, 'unknown', Infinity],
    ],
  );
  assert.equal(h[1]!.output, undefined, 'unknown operations carry no output constraint');
  assert.equal(h[1]!.gaveUpAt, 40);
});

test('makeHistory rejects malformed and non-sequential histories', () => {
  const w = { type: 'write', value: 1 } as const;
  assert.throws(() => makeHistory<In, Out>([{ clientId: 'a', input: w, output: {}, callTime: 5, returnTime: 4, outcome: 'ok' }]), HistoryError);
  assert.throws(() => makeHistory<In, Out>([{ clientId: 'a', input: w, output: {}, callTime: 5, outcome: 'ok' }]), /finite returnTime/);
  assert.throws(
    () =>
      makeHistory<In, Out>([
        { clientId: 'a', input: w, output: {}, callTime: 0, returnTime: 10, outcome: 'ok' },
        { clientId: 'a', input: w, output: {}, callTime: 5, returnTime: 12, outcome: 'ok' },
      ]),
    /overlap/,
  );
  assert.throws(
    () =>
      makeHistory<In, Out>([
        { clientId: 'a', input: w, callTime: 0, returnTime: 10, outcome: 'unknown' },
        { clientId: 'a', input: w, output: {}, callTime: 20, returnTime: 22, outcome: 'ok' },
      ]),
    /new client id/,
  );
});

test('HistoryRecorder stamps with the injected clock and enforces client rules', () => {
  let now = 0;
  const rec = new HistoryRecorder<In, Out>({ clock: () => now });
  const h1 = rec.invoke('a', { type: 'write', value: 1 });
  assert.throws(() => rec.invoke('a', { type: 'read' }), /in flight/);
  now = 3;
  h1.ok({});
  assert.throws(() => h1.ok({}), /already resolved/);
  now = 4;
  const h2 = rec.invoke('a', { type: 'write', value: 2 });
  now = 9;
  h2.unknown();
  assert.throws(() => rec.invoke('a', { type: 'read' }), /unknown outcome.*a~1/);
  now = 10;
  const h3 = rec.invoke('b', { type: 'write', value: 3 });
  now = 11;
  h3.fail();
  now = 12;
  rec.invoke('c', { type: 'read' }); // still in flight when the history is taken
  const h = rec.history();
  assert.deepEqual(
    h.map((o) => [o.clientId, o.outcome, o.callTime, o.returnTime]),
    [
      ['a', 'ok', 0, 3],
      ['a', 'unknown', 4, Infinity],
      ['c', 'unknown', 12, Infinity],
    ],
  );
});

test('RecordingClient moves to a fresh id after an unknown outcome', async () => {
  let now = 0;
  const rec = new HistoryRecorder<In, Out>({ clock: () => now++ });
  const alice = rec.client('alice');
  const other = rec.client('alice'); // same logical name: still a distinct id
  assert.notEqual(alice.id, other.id);
  assert.equal(alice.id, 'alice');
  alice.invoke({ type: 'write', value: 1 }).ok({});
  alice.invoke({ type: 'write', value: 2 }).unknown();
  assert.notEqual(alice.id, 'alice');
  await alice.run({ type: 'read' }, async () => ({ value: 1 }));
  await assert.rejects(alice.run({ type: 'read' }, async () => Promise.reject(new Error('NOT_LEADER')), () => 'fail'));
  const idBefore = alice.id;
  await assert.rejects(alice.run({ type: 'read' }, async () => Promise.reject(new Error('timeout'))));
  assert.notEqual(alice.id, idBefore, 'a thrown error defaults to unknown and rotates the id');
  const h = rec.history(); // validates sequentiality per id
  assert.deepEqual(
    h.map((o) => o.outcome),
    ['ok', 'unknown', 'ok', 'unknown'],
  );
});
