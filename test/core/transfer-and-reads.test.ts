// Thesis §3.10 (leadership transfer) and §6.4 (ReadIndex and lease reads).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftError } from '../../src/raft/core/errors.js';
import { MessageType, Role } from '../../src/raft/core/types.js';
import { Cluster, bytes } from './harness.js';

const code = (c: string) => (e: unknown) => e instanceof RaftError && e.code === c;

test('leader transfer to an up-to-date follower: TimeoutNow, immediate election', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.get('a').node.propose(bytes('x'));
  c.stabilize();
  const before = c.sent.length;
  c.get('a').node.transferLeader('c');
  c.stabilize();
  assert.equal(c.leader()?.id, 'c');
  assert.ok(c.sent.slice(before).some((m) => m.type === MessageType.TimeoutNow && m.to === 'c'));
  assert.equal(c.get('a').node.status().role, Role.Follower);
});

test('leader transfer to a lagging follower: catch it up first, refuse proposals meanwhile', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  for (let i = 0; i < 10; i++) c.get('a').node.propose(bytes(`v${i}`));
  c.stabilize();
  c.get('a').node.transferLeader('c');
  assert.throws(() => c.get('a').node.propose(bytes('during')), code('TRANSFERRING_LEADERSHIP'));
  c.stabilize();
  assert.equal(c.leader()?.id, 'a', 'cannot transfer while c is unreachable');
  c.heal();
  c.tickAll(2);
  assert.equal(c.leader()?.id, 'c');
  assert.equal(c.data('c').length, 10);
});

test('leader transfer is abandoned after an election timeout', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  c.get('a').node.transferLeader('c');
  assert.equal(c.get('a').node.status().leadTransferee, 'c');
  for (let i = 0; i < 12; i++) {
    c.get('a').node.tick();
    c.get('b').node.tick();
    c.stabilize();
  }
  assert.equal(c.get('a').node.status().leadTransferee, '');
  c.get('a').node.propose(bytes('accepted again'));
});

test('ReadIndex before the first commit of a term: the read waits until the no-op commits', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.get('a').node.campaign();
  // Run the election but hold back all appends, so the leader's no-op is not committed.
  for (let i = 0; i < 4; i++) {
    c.processReadies();
    c.deliverOnly((m) => m.type !== MessageType.App && m.type !== MessageType.AppResp);
  }
  const a = c.get('a');
  assert.equal(a.node.status().role, Role.Leader);
  a.node.readIndex('r1');
  c.processReadies();
  c.deliverOnly((m) => m.type !== MessageType.App && m.type !== MessageType.AppResp);
  c.processReadies();
  assert.equal(a.readStates.length, 0, 'no read point before an entry of this term commits');
  c.tickAll(2);
  assert.equal(a.readStates.length, 1);
  assert.equal(a.readStates[0]!.requestId, 'r1');
  assert.ok(a.readStates[0]!.index >= a.node.status().commit - 0 && a.readStates[0]!.index >= 1);
});

test('ReadIndex batches concurrent requests into one heartbeat round', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const a = c.get('a');
  const before = c.sent.length;
  for (let i = 0; i < 10; i++) a.node.readIndex(`r${i}`);
  c.stabilize();
  const heartbeats = c.sent.slice(before).filter((m) => m.type === MessageType.Heartbeat);
  assert.equal(heartbeats.length, 2, 'one heartbeat per follower for all ten reads');
  assert.equal(a.readStates.length, 10);
  assert.equal(new Set(a.readStates.map((r) => r.index)).size, 1);
});

test('ReadIndex needs a quorum: a partitioned leader serves no reads', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('a');
  c.get('a').node.readIndex('stale?');
  c.stabilize();
  assert.equal(c.get('a').readStates.length, 0);
});

test('ReadIndex on a follower goes through the leader and returns the leader\'s read point', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.get('a').node.propose(bytes('w'));
  c.stabilize();
  const b = c.get('b');
  b.node.readIndex('from-b');
  c.stabilize();
  assert.equal(b.readStates.length, 1);
  assert.equal(b.readStates[0]!.index, c.get('a').node.status().commit);
});

test('ReadIndex on a node that knows no leader fails with NO_LEADER', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.get('b').node.readIndex('nobody');
  c.processReadies();
  assert.equal(c.get('b').readFailures[0]?.code, 'NO_LEADER');
});

test('lease read: served at once while a quorum answered recent heartbeats, not after', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.tickAll(1); // a heartbeat round answered by both followers
  const a = c.get('a');
  const before = c.sent.length;
  a.node.readIndex('lease-1', { lease: true });
  c.processReadies();
  assert.equal(a.readStates.length, 1, 'served from the lease');
  assert.equal(c.sent.slice(before).filter((m) => m.type === MessageType.Heartbeat).length, 0, 'without a round');
  // Cut the leader off: after the lease runs out, a lease read is no longer served.
  c.isolate('a');
  for (let i = 0; i < 9; i++) {
    a.node.tick();
    c.stabilize();
  }
  a.node.readIndex('lease-2', { lease: true });
  c.stabilize();
  assert.equal(a.readStates.length, 1, 'expired lease: falls back to a round that cannot complete');
});

test('lease read falls back to a ReadIndex round when check-quorum is off', () => {
  const c = new Cluster(['a', 'b', 'c'], { checkQuorum: false });
  c.elect('a');
  c.tickAll(1);
  const before = c.sent.length;
  c.get('a').node.readIndex('r', { lease: true });
  c.stabilize();
  assert.ok(c.sent.slice(before).some((m) => m.type === MessageType.Heartbeat));
  assert.equal(c.get('a').readStates.length, 1);
});

test('a leader that steps down fails its pending reads', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('a');
  c.get('a').node.readIndex('doomed');
  for (let i = 0; i < 25; i++) {
    c.get('a').node.tick();
    c.stabilize();
  }
  assert.equal(c.get('a').node.status().role, Role.Follower);
  assert.equal(c.get('a').readFailures[0]?.requestId, 'doomed');
  assert.equal(c.get('a').readFailures[0]?.code, 'NOT_LEADER');
});
