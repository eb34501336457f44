// Raft §6 / thesis §4.3: joint consensus, learners, one change at a time, removing the leader.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftError } from '../../src/raft/core/errors.js';
import { MemoryStorage } from '../../src/raft/core/memory-storage.js';
import { Role } from '../../src/raft/core/types.js';
import { Cluster, bytes } from './harness.js';

const code = (c: string) => (e: unknown) => e instanceof RaftError && e.code === c;

function withNewNodes(ids: string[], all: string[]): Cluster {
  const c = new Cluster(ids, { checkQuorum: false });
  let seed = 50;
  for (const id of all) if (!ids.includes(id)) c.add(id, new MemoryStorage(), seed++, { checkQuorum: false });
  return c;
}

test('joint consensus: a change of several voters passes through C_old,new and leaves it automatically', () => {
  const c = withNewNodes(['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e']);
  c.elect('a');
  const leader = c.get('a').node;
  leader.proposeConfChange({ changes: [{ op: 'addVoter', node: 'd' }, { op: 'addVoter', node: 'e' }, { op: 'removeNode', node: 'c' }] });
  // Step once: the joint configuration applies when committed.
  c.processReadies();
  c.stabilize();
  c.tickAll(3);
  const cs = leader.status().confState;
  assert.deepEqual(cs.votersOutgoing, [], 'left the joint configuration');
  assert.deepEqual(cs.voters, ['a', 'b', 'd', 'e']);
  leader.propose(bytes('after'));
  c.stabilize();
  for (const id of ['a', 'b', 'd', 'e']) assert.deepEqual(c.data(id), ['after'], id);
});

test('joint consensus: while joint, commit needs majorities of both the old and the new voters', () => {
  const c = withNewNodes(['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e', 'f']);
  c.elect('a');
  const a = c.get('a').node;
  // Replace b and c by d, e, f; hold the joint config by asking to leave explicitly.
  a.proposeConfChange({ changes: [{ op: 'addVoter', node: 'd' }, { op: 'addVoter', node: 'e' }, { op: 'addVoter', node: 'f' }, { op: 'removeNode', node: 'b' }, { op: 'removeNode', node: 'c' }], transition: 'jointExplicit' });
  c.stabilize();
  c.tickAll(2);
  assert.deepEqual(a.status().confState.votersOutgoing, ['a', 'b', 'c']);
  // Old voters b, c unreachable: a + d + e + f is a new majority but only 1/3 of the old.
  c.isolate('b');
  c.isolate('c');
  const commit = a.status().commit;
  a.propose(bytes('needs-both'));
  c.tickAll(3);
  assert.equal(a.status().commit, commit, 'no commit without the old majority');
  // Bring c back: old majority (a, c) and new majority (a, d, e) -> commits.
  c.heal();
  c.isolate('b');
  c.tickAll(3);
  assert.ok(a.status().commit > commit);
  assert.deepEqual(c.data('d'), ['needs-both']);
  // Leave explicitly.
  a.proposeConfChange({ changes: [] });
  c.tickAll(3);
  assert.deepEqual(a.status().confState.voters, ['a', 'd', 'e', 'f']);
  assert.deepEqual(a.status().confState.votersOutgoing, []);
});

test('one membership change at a time: a second change is refused until the first is applied', () => {
  const c = withNewNodes(['a', 'b', 'c'], ['a', 'b', 'c', 'd', 'e']);
  c.elect('a');
  const a = c.get('a').node;
  a.proposeConfChange({ changes: [{ op: 'addLearner', node: 'd' }] });
  assert.throws(() => a.proposeConfChange({ changes: [{ op: 'addLearner', node: 'e' }] }), code('CONF_CHANGE_PENDING'));
  c.stabilize();
  a.proposeConfChange({ changes: [{ op: 'addLearner', node: 'e' }] });
  c.stabilize();
  assert.deepEqual(a.status().confState.learners, ['d', 'e']);
});

test('invalid changes are refused with a typed error and nothing is logged', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const a = c.get('a').node;
  const last = a.status().lastIndex;
  assert.throws(() => a.proposeConfChange({ changes: [] }), code('INVALID_CONF_CHANGE'));
  assert.throws(() => a.proposeConfChange({ changes: [{ op: 'removeNode', node: 'a' }, { op: 'removeNode', node: 'b' }, { op: 'removeNode', node: 'c' }] }), code('INVALID_CONF_CHANGE'));
  assert.throws(() => a.proposeConfChange({ changes: [{ op: 'addVoter', node: 'x' }, { op: 'addVoter', node: 'y' }], transition: 'auto' }).index && a.proposeConfChange({ changes: [] }), code('CONF_CHANGE_PENDING'));
  assert.ok(a.status().lastIndex === last + 1, 'only the valid joint change was appended');
  assert.throws(() => c.get('b').node.proposeConfChange({ changes: [{ op: 'addLearner', node: 'z' }] }), code('NOT_LEADER'));
});

test('learners replicate but do not vote; a caught-up learner is promoted to voter', () => {
  const c = withNewNodes(['a', 'b', 'c'], ['a', 'b', 'c', 'd']);
  c.elect('a');
  const a = c.get('a').node;
  for (let i = 0; i < 5; i++) a.propose(bytes(`v${i}`));
  c.stabilize();
  a.proposeConfChange({ changes: [{ op: 'addLearner', node: 'd' }] });
  c.tickAll(3);
  assert.deepEqual(c.data('d'), ['v0', 'v1', 'v2', 'v3', 'v4']);
  assert.deepEqual(a.status().confState.learners, ['d']);
  // A learner never campaigns.
  for (let i = 0; i < 50; i++) c.get('d').node.tick();
  c.stabilize();
  assert.notEqual(c.get('d').node.status().role, Role.Leader);
  a.proposeConfChange({ changes: [{ op: 'addVoter', node: 'd' }] });
  c.tickAll(3);
  assert.deepEqual(a.status().confState.voters, ['a', 'b', 'c', 'd']);
  assert.deepEqual(a.status().confState.learners, []);
});

test('promoting a learner that has not caught up is refused', () => {
  const c = withNewNodes(['a', 'b', 'c'], ['a', 'b', 'c', 'd']);
  c.elect('a');
  const a = c.get('a').node;
  c.isolate('d');
  a.proposeConfChange({ changes: [{ op: 'addLearner', node: 'd' }] });
  for (let i = 0; i < 5; i++) a.propose(bytes(`v${i}`));
  c.tickAll(3);
  assert.throws(() => a.proposeConfChange({ changes: [{ op: 'addVoter', node: 'd' }] }), code('LEARNER_NOT_CAUGHT_UP'));
});

test('removing the leader: it leads until the removal commits, then steps down and a new leader is elected', () => {
  const c = new Cluster(['a', 'b', 'c'], { checkQuorum: false });
  c.elect('a');
  const a = c.get('a').node;
  a.proposeConfChange({ changes: [{ op: 'removeNode', node: 'a' }] });
  // Until committed, a is still leader and still accepts proposals.
  assert.equal(a.status().role, Role.Leader);
  a.propose(bytes('before-removal-commits'));
  c.stabilize();
  // Once the removal is applied, a hands leadership to a caught-up voter (TimeoutNow) and
  // refuses proposals; it learns of the new term at its next heartbeat and steps down.
  assert.throws(() => a.propose(bytes('too late')), (e: unknown) => e instanceof RaftError && e.code !== 'INVARIANT');
  c.tickAll(2);
  assert.equal(a.status().role, Role.Follower, 'stepped down after handing over');
  const l = c.leader();
  assert.ok(l && l.id !== 'a');
  assert.deepEqual(l.node.status().confState.voters, ['b', 'c']);
  l.node.propose(bytes('after'));
  c.stabilize();
  assert.deepEqual(c.data('b'), ['before-removal-commits', 'after']);
  assert.deepEqual(c.data('c'), ['before-removal-commits', 'after']);
});
