// Thesis §5 (log compaction, InstallSnapshot) and flow control (inflight window, uncommitted cap).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftError } from '../../src/raft/core/errors.js';
import { MessageType } from '../../src/raft/core/types.js';
import { Cluster, bytes } from './harness.js';

test('InstallSnapshot: a follower behind the compacted log catches up from a snapshot', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  const a = c.get('a');
  for (let i = 0; i < 20; i++) a.node.propose(bytes(`v${i}`));
  c.stabilize();
  // Compact a's log up to its applied index, with the state machine image as snapshot data.
  const applied = a.node.status().applied;
  a.storage.createSnapshot(applied, a.node.status().confState, bytes(JSON.stringify(c.data('a'))));
  a.storage.compact(applied);
  const before = c.sent.length;
  c.heal();
  c.tickAll(3);
  const snaps = c.sent.slice(before).filter((m) => m.type === MessageType.Snap && m.to === 'c');
  assert.equal(snaps.length, 1);
  // The leader is told the snapshot was delivered.
  a.node.reportSnapshot('c', true);
  a.node.propose(bytes('after-snapshot'));
  c.tickAll(3);
  const cs = c.get('c');
  assert.equal(cs.storage.snapshot().meta.index, applied);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(cs.storage.snapshot().data)), c.data('a').slice(0, 20));
  assert.deepEqual(c.data('c'), ['after-snapshot'], 'entries after the snapshot are applied on top');
  assert.equal(cs.node.status().commit, a.node.status().commit);
});

test('a restarted node resumes from its durable state and catches up', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  for (let i = 0; i < 5; i++) c.get('a').node.propose(bytes(`v${i}`));
  c.stabilize();
  const term = c.get('b').node.status().term;
  const b = c.restart('b');
  assert.equal(b.node.status().term, term);
  assert.equal(b.node.status().lastIndex, 3 + 1 + 5);
  c.get('a').node.propose(bytes('later'));
  c.tickAll(2);
  // The restarted node re-applies from its snapshot (index 0) and then the new entry.
  assert.deepEqual(c.data('b'), ['v0', 'v1', 'v2', 'v3', 'v4', 'later']);
});

test('flow control: at most maxInflightMsgs appends are in flight to a follower', () => {
  const c = new Cluster(['a', 'b', 'c'], { maxInflightMsgs: 4, maxSizePerMsgBytes: 1 });
  c.elect('a');
  const a = c.get('a').node;
  c.isolate('b');
  c.isolate('c');
  // Make a's progress for b/c reach replicate state first.
  c.heal();
  c.tickAll(1);
  c.isolate('b');
  const before = c.sent.length;
  for (let i = 0; i < 20; i++) a.propose(bytes(`v${i}`));
  c.stabilize();
  const toB = c.sent.slice(before).filter((m) => m.type === MessageType.App && m.to === 'b' && (m.entries?.length ?? 0) > 0);
  assert.equal(toB.length, 4, 'the window of 4 limits the pipeline to an unresponsive peer');
  const toC = c.sent.slice(before).filter((m) => m.type === MessageType.App && m.to === 'c' && (m.entries?.length ?? 0) > 0);
  assert.equal(toC.length, 20);
});

test('flow control: proposals beyond the uncommitted byte cap get BUSY, and work again after commit', () => {
  const c = new Cluster(['a', 'b', 'c'], { maxUncommittedEntriesBytes: 1000 });
  c.elect('a');
  const a = c.get('a').node;
  c.isolate('b');
  c.isolate('c');
  let accepted = 0;
  let busy: unknown;
  for (let i = 0; i < 100 && !busy; i++) {
    try {
      a.propose(new Uint8Array(100));
      accepted++;
    } catch (e) {
      busy = e;
    }
  }
  assert.ok(busy instanceof RaftError && busy.code === 'BUSY', 'typed BUSY error');
  assert.ok(accepted >= 5 && accepted <= 10, `accepted ${accepted}`);
  c.heal();
  c.tickAll(3);
  a.propose(new Uint8Array(100));
});
