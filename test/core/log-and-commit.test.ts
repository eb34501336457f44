// Raft §5.3 (log matching, consistency check, conflicting suffix), §5.4.2 / Figure 8
// (committing entries from previous terms), and the persistence contract of the Ready batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftError } from '../../src/raft/core/errors.js';
import { RaftLog } from '../../src/raft/core/log.js';
import { MemoryStorage } from '../../src/raft/core/memory-storage.js';
import { seededRand } from '../../src/raft/core/random.js';
import { RawNode } from '../../src/raft/core/rawnode.js';
import { type Entry, EntryType, type Message, MessageType, Role } from '../../src/raft/core/types.js';
import { Cluster, bytes } from './harness.js';

const ent = (index: number, term: number, d = ''): Entry => ({ index, term, type: EntryType.Normal, data: bytes(d) });

test('log matching: a follower replaces a conflicting uncommitted suffix with the leader\'s entries', () => {
  const c = new Cluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
  c.elect('a');
  // a appends two entries that reach nobody.
  c.isolate('a');
  c.get('a').node.propose(bytes('lost-1'));
  c.get('a').node.propose(bytes('lost-2'));
  c.stabilize();
  c.elect('b');
  c.get('b').node.propose(bytes('kept'));
  c.stabilize();
  c.heal();
  c.get('b').node.propose(bytes('kept-2'));
  c.tickAll(3); // a heartbeat round un-pauses the probe to a
  c.stabilize();
  for (const id of ['a', 'b', 'c']) assert.deepEqual(c.data(id), ['kept', 'kept-2'], id);
  const a = c.get('a').storage;
  const b = c.get('b').storage;
  assert.equal(a.lastIndex(), b.lastIndex());
  for (let i = 1; i <= a.lastIndex(); i++) assert.equal(a.term(i), b.term(i), `term at ${i}`);
});

test('the log is never truncated below the commit index (asserted)', () => {
  const s = new MemoryStorage();
  s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
  const log = new RaftLog(s, 1 << 20);
  log.commitTo(3);
  assert.throws(() => log.maybeAppend(1, 1, 3, [ent(2, 2)]), (e: unknown) => e instanceof RaftError && e.code === 'INVARIANT');
});

test('fast back-off: a long divergent follower log is repaired in a few round trips', () => {
  const c = new Cluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
  c.elect('a');
  c.isolate('a');
  for (let i = 0; i < 200; i++) c.get('a').node.propose(bytes(`stale-${i}`)); // t1 at 2..201, only on a
  c.stabilize();
  c.elect('b');
  for (let i = 0; i < 300; i++) c.get('b').node.propose(bytes(`new-${i}`)); // t2 at 2..302
  c.stabilize();
  // c takes over with the long log: its first probe to a lands at 302, far past the divergence.
  c.get('b').node.transferLeader('c');
  c.stabilize();
  assert.equal(c.get('c').node.status().role, Role.Leader);
  c.heal();
  const before = c.sent.length;
  c.tickAll(3);
  const rejects = c.sent.slice(before).filter((m) => m.type === MessageType.AppResp && m.reject && m.from === 'a');
  // One step by term hint instead of 300 one-index steps.
  assert.ok(rejects.length >= 1 && rejects.length <= 2, `expected one or two rejections, got ${rejects.length}`);
  assert.equal(c.data('a').length, 300);
  assert.equal(c.data('a')[0], 'new-0');
});

/** Indexes 1..B hold the bootstrap membership entries. */
const B = 3;

/**
 * Figure 8 on three nodes. a (term t1) holds X at index 2 alone; b wins t2 and writes its own
 * no-op at 2; a wins t3 and copies X to c, so X is on a majority, but X is of term t1. If a
 * committed X by counting replicas, b could still win t4 and overwrite index 2 everywhere.
 * Returns a's commit index right after c acknowledged X (before a's t3 entry reached c).
 */
function figure8(unsafe: boolean): { commitAfterCopy: number; t1: number; c: Cluster } {
  const c = new Cluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false, maxSizePerMsgBytes: 1, unsafeCommitPreviousTerm: unsafe });
  c.elect('a'); // term t1, no-op at 1 committed everywhere
  const t1 = c.get('a').node.status().term;
  c.isolate('a');
  c.get('a').node.propose(bytes('X')); // index 2, term t1, only on a
  c.stabilize();
  const onlyVotes = (): void => {
    c.processReadies();
    c.deliverOnly((m) => m.type === MessageType.Vote);
    c.processReadies();
    c.deliverOnly((m) => m.type === MessageType.VoteResp);
    c.processReadies();
    c.queue = [];
  };
  c.heal();
  c.isolate('a');
  c.get('b').node.campaign(); // t2 via c; b's no-op at index 2 stays on b
  onlyVotes();
  assert.equal(c.get('b').node.status().role, Role.Leader);
  // a learns of term t2 from one heartbeat of b (nothing else of b's reaches anybody).
  c.heal();
  c.get('b').node.tick();
  c.processReadies();
  c.deliverOnly((m) => m.type === MessageType.Heartbeat && m.to === 'a');
  c.processReadies();
  c.queue = [];
  assert.equal(c.get('a').node.status().role, Role.Follower);
  c.heal();
  c.isolate('b');
  c.get('a').node.campaign(); // t3 via c
  onlyVotes();
  assert.equal(c.get('a').node.status().role, Role.Leader);
  // a probes c; replicate one entry per message until c holds X but not a's t3 no-op.
  c.get('a').node.tick(); // heartbeat: its answer starts the probe
  let ackOfX: Message | undefined;
  const isAckOfX = (m: Message): boolean => m.type === MessageType.AppResp && m.from === 'c' && !m.reject && (m.index ?? 0) >= B + 2;
  for (let i = 0; i < 20 && !ackOfX; i++) {
    c.processReadies();
    c.deliverOnly((m) => m.to === 'c' && m.from === 'a');
    c.processReadies();
    ackOfX = c.queue.find(isAckOfX);
    c.deliverOnly((m) => m.to === 'a' && m.from === 'c' && !isAckOfX(m));
  }
  assert.ok(ackOfX, 'c acknowledged X');
  assert.equal(c.get('c').storage.lastIndex(), B + 2);
  assert.equal(c.get('c').storage.term(B + 2), t1, 'c holds X');
  c.deliver(ackOfX);
  c.processReadies();
  return { commitAfterCopy: c.get('a').node.status().commit, t1, c };
}

test('Figure 8: an entry of an earlier term is not committed by counting replicas', () => {
  const { commitAfterCopy, c } = figure8(false);
  assert.equal(commitAfterCopy, B + 1, 'X (an earlier term) must not commit before an entry of the current term');
  // Once a's current-term no-op reaches c, X commits with it.
  c.tickAll(3);
  assert.ok(c.get('a').node.status().commit >= B + 3);
  assert.deepEqual(c.data('a'), ['X']);
});

test('Figure 8 with the unsafe rule on: X commits by counting replicas (so the safe rule is what prevents it)', () => {
  const { commitAfterCopy } = figure8(true);
  assert.equal(commitAfterCopy, B + 2);
});

test('persistence contract: a candidate sends Vote requests only after its term and vote are persisted', () => {
  const c = new Cluster(['a', 'b', 'c'], { preVote: false });
  const a = c.get('a').node;
  a.campaign();
  const rd = a.ready();
  assert.equal(rd.hardState?.vote, 'a');
  assert.ok(rd.mustSync);
  assert.equal(rd.messages.length, 0);
  assert.equal(rd.messagesAfterPersist.filter((m) => m.type === MessageType.Vote).length, 2);
  a.advance(rd);
});

test('persistence contract: a granted vote and an append acknowledgement leave only after persisting', () => {
  const c = new Cluster(['a', 'b', 'c'], { preVote: false });
  c.get('a').node.campaign();
  c.processReadies();
  const voteReq = c.queue.find((m) => m.type === MessageType.Vote && m.to === 'b')!;
  const b = c.get('b').node;
  b.step(voteReq);
  const rd = b.ready();
  assert.equal(rd.hardState?.vote, 'a');
  assert.ok(rd.mustSync);
  assert.ok(rd.messagesAfterPersist.some((m) => m.type === MessageType.VoteResp && !m.reject));
  assert.ok(!rd.messages.some((m) => m.type === MessageType.VoteResp));
  b.advance(rd);
  c.queue = [];
  c.elect('a');
  c.get('a').node.propose(bytes('p'));
  c.processReadies();
  const app = c.queue.find((m) => m.type === MessageType.App && m.to === 'b' && (m.entries?.length ?? 0) > 0)!;
  b.step(app);
  const rd2 = b.ready();
  assert.ok(rd2.entries.length > 0);
  assert.ok(rd2.messagesAfterPersist.some((m) => m.type === MessageType.AppResp));
  assert.ok(!rd2.messages.some((m) => m.type === MessageType.AppResp));
  b.advance(rd2);
});

test('the leader sends AppendEntries before its own fsync but counts itself only after it', () => {
  const s = new MemoryStorage();
  RawNode.bootstrap(s, ['solo']);
  const n = new RawNode({ id: 'solo', storage: s, random: seededRand(1) });
  const persist = (): void => {
    const rd = n.ready();
    if (rd.hardState) s.setHardState(rd.hardState);
    s.append(rd.entries);
    n.advance(rd);
  };
  persist(); // bootstrap membership
  n.campaign();
  persist(); // election + no-op
  persist(); // no-op committed
  const commitBefore = n.status().commit;
  n.propose(bytes('v'));
  const rd = n.ready();
  assert.equal(rd.entries.length, 1);
  assert.equal(rd.committedEntries.length, 0, 'not committed before the local write is acknowledged');
  assert.equal(n.status().commit, commitBefore);
  s.append(rd.entries);
  n.advance(rd);
  assert.equal(n.status().commit, commitBefore + 1);
  const rd2 = n.ready();
  assert.equal(rd2.committedEntries.length, 1);
  n.advance(rd2);

  // In a 3-node cluster the leader's App messages for new entries are in `messages`.
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.get('a').node.propose(bytes('q'));
  const lr = c.get('a').node.ready();
  assert.ok(lr.messages.some((m) => m.type === MessageType.App && (m.entries?.length ?? 0) === 1));
  assert.equal(lr.entries.length, 1);
  c.get('a').node.advance(lr);
});
