import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RaftNodeError } from '../../src/raft/runtime/errors.js';
import { MemoryNodeStorage } from '../../src/raft/runtime/node-storage.js';
import { RaftNode } from '../../src/raft/runtime/raft-node.js';
import { CounterSM, LoopbackHub, enc, waitFor } from './helpers.js';

const started: RaftNode<number>[] = [];
after(async () => {
  for (const n of started) await n.stop();
});

async function cluster(ids: string[], extra: Partial<Parameters<typeof RaftNode.start<number>>[0]> = {}) {
  const hub = new LoopbackHub();
  const nodes = new Map<string, { node: RaftNode<number>; sm: CounterSM }>();
  for (const id of ids) {
    const sm = new CounterSM();
    const node = await RaftNode.start<number>({
      id,
      storage: new MemoryNodeStorage(),
      stateMachine: sm,
      transport: hub.port(id),
      initialVoters: ids,
      tickMs: 10,
      electionTimeoutMs: 100,
      heartbeatIntervalMs: 20,
      ...extra,
    });
    started.push(node);
    nodes.set(id, { node, sm });
  }
  const leader = async () => {
    await waitFor(() => [...nodes.values()].some((n) => n.node.isLeader), 5000, 'a leader');
    return [...nodes.values()].find((n) => n.node.isLeader)!;
  };
  return { hub, nodes, leader };
}

test('RaftNode: a 3-node group elects, batches proposals, applies them everywhere in order', async () => {
  const { nodes, leader } = await cluster(['n1', 'n2', 'n3']);
  const l = await leader();
  const results = await Promise.all(Array.from({ length: 200 }, () => l.node.apply({ data: enc('add:1') })));
  assert.equal(results.length, 200);
  // Each result is the counter value after that entry: all distinct, 1..200 in index order.
  const byIndex = [...results].sort((a, b) => a.index - b.index).map((r) => r.result);
  assert.deepEqual(byIndex, Array.from({ length: 200 }, (_, i) => i + 1));
  await waitFor(() => [...nodes.values()].every((n) => n.sm.value === 200), 5000, 'all replicas at 200');
});

test('RaftNode: a follower answers NOT_LEADER with the leader hint; bad input is INVALID_ARGUMENT', async () => {
  const { nodes, leader } = await cluster(['a1', 'a2', 'a3'], { groupId: 'g2' });
  const l = await leader();
  const f = [...nodes.values()].find((n) => !n.node.isLeader)!;
  await waitFor(() => f.node.leaderId === l.node.id, 2000, 'follower knows leader');
  await assert.rejects(f.node.apply({ data: enc('add:1') }), (e: unknown) => e instanceof RaftNodeError && e.code === 'NOT_LEADER' && e.leaderId === l.node.id && e.leaderAddress === `mem://${l.node.id}` && e.retryable);
  await assert.rejects(l.node.apply({ data: new Uint8Array(0) }), (e: unknown) => e instanceof RaftNodeError && e.code === 'INVALID_ARGUMENT');
  await assert.rejects(l.node.apply({ data: enc('add:1'), expectedTerm: 999 }), (e: unknown) => e instanceof RaftNodeError && e.code === 'TERM_MISMATCH');
});

test('RaftNode: the apply queue is bounded: BUSY beyond maxPendingProposals, nothing lost', async () => {
  const { nodes, leader } = await cluster(['b1', 'b2', 'b3'], { groupId: 'g3', maxPendingProposals: 50 });
  const l = await leader();
  const outcomes = await Promise.allSettled(Array.from({ length: 80 }, () => l.node.apply({ data: enc('add:1') })));
  const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
  const busy = outcomes.filter((o) => o.status === 'rejected' && (o.reason as RaftNodeError).code === 'BUSY').length;
  assert.equal(ok, 50);
  assert.equal(busy, 30);
  await waitFor(() => [...nodes.values()].every((n) => n.sm.value === 50), 5000, 'replicas at 50');
});

test('RaftNode: readIndex on a follower sees every write acknowledged before it', async () => {
  const { nodes, leader } = await cluster(['c1', 'c2', 'c3'], { groupId: 'g4' });
  const l = await leader();
  for (let i = 0; i < 20; i++) await l.node.apply({ data: enc('add:2') });
  const f = [...nodes.values()].find((n) => !n.node.isLeader)!;
  await f.node.readIndex();
  assert.equal(f.sm.value, 40);
});

test('RaftNode: the entry-size limit and startTransaction rejections log nothing', async () => {
  const { leader } = await cluster(['d1', 'd2', 'd3'], { groupId: 'g5', maxEntryBytes: 100 });
  const l = await leader();
  const before = l.node.status().lastIndex;
  await assert.rejects(l.node.apply({ data: new Uint8Array(101) }), (e: unknown) => e instanceof RaftNodeError && e.code === 'ENTRY_TOO_LARGE' && /101 bytes.*100 bytes/.test(e.message));
  assert.equal(l.node.status().lastIndex, before);
});

test('RaftNode: a preAppend failure makes the leader step down and logs nothing', async () => {
  const hub = new LoopbackHub();
  const ids = ['e1', 'e2', 'e3'];
  const nodes: RaftNode<number>[] = [];
  for (const id of ids) {
    const sm = new CounterSM();
    const withHook = Object.assign(sm, {
      preAppend(entry: { data: Uint8Array }): void {
        if (new TextDecoder().decode(entry.data) === 'add:666') throw new Error('refusing the number of the beast');
      },
    });
    const node = await RaftNode.start<number>({ id, groupId: 'g6', storage: new MemoryNodeStorage(), stateMachine: withHook, transport: hub.port(id), initialVoters: ids, tickMs: 10, electionTimeoutMs: 100, heartbeatIntervalMs: 20 });
    started.push(node);
    nodes.push(node);
  }
  await waitFor(() => nodes.some((n) => n.isLeader), 5000, 'leader');
  const l = nodes.find((n) => n.isLeader)!;
  await l.apply({ data: enc('add:1') });
  const last = l.status().lastIndex;
  await assert.rejects(l.apply({ data: enc('add:666') }), (e: unknown) => e instanceof RaftNodeError && e.code === 'STATE_MACHINE_ERROR' && /stepped down/.test(e.message));
  assert.equal(l.isLeader, false, 'the leader stepped down');
  assert.equal(l.status().lastIndex, last, 'nothing was appended');
  await waitFor(() => nodes.some((n) => n.isLeader), 5000, 'a leader again');
});
