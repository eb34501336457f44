// The placement driver's replicated map: stores and their states, regions by epoch (an older
// report never overwrites a newer one, a split's halves replace the parent), and snapshots.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RegionMeta } from '../../src/kv/region.js';
import { type PdCommand, PdStateMachine, encodePdCommand, regionCommand } from '../../src/pd/pd-state-machine.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
let index = 0;
function apply(sm: PdStateMachine, ...cmds: PdCommand[]): unknown[] {
  return sm.apply(cmds.map((c) => ({ index: ++index, term: 1, data: encodePdCommand(c) }))).map((r) => JSON.parse(new TextDecoder().decode(r)) as unknown);
}
function region(id: string, start: string, end: string, version: number, confVer: number, voters = ['s1', 's2', 's3']): RegionMeta {
  return { id, startKey: b(start), endKey: b(end), epoch: { version, confVer }, voters, learners: [] };
}

test('stores register, move address, change state; a tombstone stays one', () => {
  const sm = new PdStateMachine();
  apply(sm, { type: 'putStore', id: 's1', address: 'a:1' }, { type: 'putStore', id: 's1', address: 'a:2' });
  assert.deepEqual(sm.stores.get('s1'), { id: 's1', address: 'a:2', state: 'up' });
  apply(sm, { type: 'setStoreState', id: 's1', state: 'offline' }, { type: 'putStore', id: 's1', address: 'a:3' });
  assert.equal(sm.stores.get('s1')!.state, 'offline', 're-registering keeps the state');
  const [r] = apply(sm, { type: 'setStoreState', id: 's1', state: 'tombstone' }, { type: 'setStoreState', id: 's1', state: 'up' }).slice(1);
  assert.deepEqual(r, { ok: false, error: "store 's1' is a tombstone" });
  assert.equal(sm.stores.get('s1')!.state, 'tombstone');
  assert.deepEqual(apply(sm, { type: 'setStoreState', id: 'nope', state: 'offline' })[0], { ok: false, error: "no store 'nope'" });
});

test('a region keeps its newest epoch; the halves of a split replace the parent', () => {
  const sm = new PdStateMachine();
  apply(sm, regionCommand(region('1', '', '', 1, 7)));
  apply(sm, regionCommand(region('1', '', '', 1, 5, ['s9'])));
  assert.deepEqual(sm.regions.get('1')!.voters, ['s1', 's2', 's3'], 'a lower confVer is ignored');
  apply(sm, regionCommand(region('1', '', '', 1, 9, ['s1', 's2', 's4'])));
  assert.deepEqual(sm.regions.get('1')!.voters, ['s1', 's2', 's4']);
  // The new right half reports first: it evicts the parent's older, wider view.
  apply(sm, regionCommand(region('1.2', 'm', '', 2, 1)));
  assert.deepEqual([...sm.regions.keys()].sort(), ['1.2']);
  apply(sm, regionCommand(region('1', '', 'm', 2, 9)));
  assert.deepEqual([...sm.regions.keys()].sort(), ['1', '1.2']);
  // A late report of the parent at its old version changes nothing.
  apply(sm, regionCommand(region('1', '', '', 1, 9)));
  assert.equal(new TextDecoder().decode(sm.regions.get('1')!.endKey), 'm');
  assert.equal(sm.regions.size, 2);
});

test('the map and the scheduler switches travel in snapshots', () => {
  const sm = new PdStateMachine();
  apply(sm, { type: 'putStore', id: 's1', address: 'a:1' }, regionCommand(region('1', '', 'k', 3, 4)), { type: 'setScheduler', name: 'leaderBalance', enabled: false });
  const image = sm.saveSnapshot();
  const copy = new PdStateMachine();
  copy.loadSnapshot(image);
  assert.deepEqual(copy.stores, sm.stores);
  assert.deepEqual(copy.regions.get('1'), sm.regions.get('1'));
  assert.equal(copy.schedulers.leaderBalance, false);
  assert.equal(copy.schedulers.split, true);
});

test('allocId hands out ids never seen before, skipping configured ones, and keeps counting after a snapshot', () => {
  const sm = new PdStateMachine();
  // s1, s2 registered; s3 never did, but region r1 names it as a voter (configured, not started).
  apply(sm, { type: 'putStore', id: 's1', address: 'a:1' }, { type: 'putStore', id: 's2', address: 'a:2' }, regionCommand(region('r1', '', '', 1, 1)));
  const ids = apply(sm, { type: 'allocId', kind: 'store' }, { type: 'allocId', kind: 'region' }, { type: 'allocId', kind: 'store' }).map((r) => (r as { id: string }).id);
  // The counter is shared: the region gets the next number after s4.
  assert.deepEqual(ids, ['s4', 'r5', 's6']);
  const copy = new PdStateMachine();
  copy.loadSnapshot(sm.saveSnapshot());
  assert.deepEqual((apply(copy, { type: 'allocId', kind: 'region' })[0] as { id: string }).id, 'r7', 'the counter travels in the snapshot');
  // A learner counts as a member too.
  apply(copy, regionCommand({ ...region('r1', '', '', 2, 2), learners: ['s8'] }));
  assert.deepEqual((apply(copy, { type: 'allocId', kind: 'store' })[0] as { id: string }).id, 's9');
});
