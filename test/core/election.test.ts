// Raft §5.2 (leader election), §5.4.1 (election restriction), thesis §9.6 (pre-vote) and
// §6.2 / check-quorum (leader stickiness).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Role, EntryType } from '../../src/raft/core/types.js';
import { Cluster, bytes } from './harness.js';

test('election safety: at most one leader per term when two nodes campaign at once', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const c = new Cluster(['a', 'b', 'c', 'd', 'e'], { preVote: false }, seed);
    c.get('a').node.campaign();
    c.get('b').node.campaign();
    c.stabilize();
    const leadersByTerm = new Map<number, string[]>();
    for (const t of c.nodes.values()) {
      const s = t.node.status();
      if (s.role === Role.Leader) leadersByTerm.set(s.term, [...(leadersByTerm.get(s.term) ?? []), t.id]);
    }
    for (const [term, ls] of leadersByTerm) assert.equal(ls.length, 1, `term ${term} has leaders ${ls}`);
  }
});

test('a new leader appends an empty entry of its own term, and the index keeps counting across terms', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const first = c.get('a').node.status();
  const boot = 3; // the bootstrap membership entries
  assert.equal(first.lastIndex, boot + 1);
  c.get('a').node.propose(bytes('x'));
  c.stabilize();
  c.get('a').node.transferLeader('b');
  c.stabilize();
  const b = c.get('b');
  const st = b.node.status();
  assert.equal(st.role, Role.Leader);
  assert.ok(st.term > first.term);
  // LogId = (term, index): the new term's no-op continues at boot + 3, not at 1.
  const noop = b.storage.entries(boot + 3, boot + 4, Infinity)[0]!;
  assert.equal(noop.term, st.term);
  assert.equal(noop.type, EntryType.Normal);
  assert.equal(noop.data.byteLength, 0);
  assert.equal(b.storage.term(boot + 2), first.term);
});

test('election restriction (§5.4.1): a candidate with a shorter log cannot win', () => {
  const c = new Cluster(['a', 'b', 'c'], { preVote: false });
  c.elect('a');
  c.isolate('c');
  c.get('a').node.propose(bytes('only-on-a-and-b'));
  c.stabilize();
  c.heal();
  // c campaigns with a stale log: a and b must refuse.
  c.isolate('a');
  c.cut.delete('c->a');
  c.cut.delete('a->c');
  c.cut.add('b->a');
  c.cut.add('a->b');
  c.get('c').node.campaign();
  c.stabilize();
  assert.notEqual(c.get('c').node.status().role, Role.Leader);
});

test('pre-vote: a partitioned node rejoining does not depose a healthy leader', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const term = c.get('a').node.status().term;
  c.isolate('c');
  // c times out many times while cut off; pre-vote keeps its term from rising.
  for (let i = 0; i < 60; i++) c.get('c').node.tick();
  c.stabilize();
  for (let i = 0; i < 60; i++) {
    c.get('a').node.tick();
    c.get('b').node.tick();
    c.stabilize();
  }
  assert.equal(c.get('c').node.status().term, term, 'pre-vote must not raise the term');
  c.heal();
  c.tickAll(30);
  assert.equal(c.leader()?.id, 'a');
  assert.equal(c.get('a').node.status().term, term);
});

test('without pre-vote, the same rejoin does disrupt (the test can tell the difference)', () => {
  const c = new Cluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
  c.elect('a');
  const term = c.get('a').node.status().term;
  c.isolate('c');
  for (let i = 0; i < 60; i++) c.get('c').node.tick();
  c.stabilize();
  assert.ok(c.get('c').node.status().term > term);
  c.heal();
  c.tickAll(30);
  assert.ok(c.get('a').node.status().term > term, 'the old leader saw the higher term');
});

test('check-quorum: a leader that cannot reach a quorum for an election timeout steps down', () => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('a');
  for (let i = 0; i < 25; i++) {
    c.get('a').node.tick();
    c.stabilize();
  }
  assert.equal(c.get('a').node.status().role, Role.Follower);
});

test('check-quorum leader stickiness: a follower that hears from its leader ignores vote requests', () => {
  const c = new Cluster(['a', 'b', 'c'], { preVote: false });
  c.elect('a');
  c.tickAll(12); // past the start-up guard
  const term = c.get('a').node.status().term;
  // b campaigns (forced) while a is healthy: c keeps hearing from a and ignores b.
  c.get('b').node.campaign();
  c.stabilize();
  assert.equal(c.get('c').node.status().vote, 'a');
  assert.equal(c.get('c').node.status().term, term);
});

test('election priority: the highest-priority node wins the first election', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const c = new Cluster(['a', 'b', 'c'], { priority: { a: 1, b: 1, c: 10 } }, seed);
    for (let i = 0; i < 100 && !c.leader(); i++) c.tickAll(1);
    assert.equal(c.leader()?.id, 'c', `seed ${seed}`);
  }
});

test('election priority: lower priorities take over when the preferred node is down', () => {
  const c = new Cluster(['a', 'b', 'c'], { priority: { a: 5, b: 5, c: 10 } }, 3);
  for (let i = 0; i < 100 && !c.leader(); i++) c.tickAll(1);
  assert.equal(c.leader()?.id, 'c');
  c.isolate('c');
  for (let i = 0; i < 300 && !(c.leader() && c.leader()!.id !== 'c'); i++) c.tickAll(1);
  const l = [...c.nodes.values()].find((t) => t.id !== 'c' && t.node.status().role === Role.Leader);
  assert.ok(l, 'a or b must take over');
});
