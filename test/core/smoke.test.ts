import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster, bytes } from './harness.js';

test('three nodes elect a leader and replicate a proposal', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  assert.equal(c.leader()?.id, 'a');
  c.get('a').node.propose(bytes('x=1'));
  c.stabilize();
  for (const id of ['a', 'b', 'c']) assert.deepEqual(c.data(id), ['x=1']);
});
