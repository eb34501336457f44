import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRand } from '../../src/raft/core/random.js';
import { MemoryNodeStorage } from '../../src/raft/runtime/node-storage.js';
import { RaftNode } from '../../src/raft/runtime/raft-node.js';
import { SNAPSHOT_CHUNK, decodeEnvelope } from '../../src/raft/runtime/rpc-router.js';
import { MemoryHub, type MemoryTransport } from '../../src/transport/memory-transport.js';
import { CounterSM, enc, waitFor } from './helpers.js';

async function setup(opts: { chunkBytes: number; bytesPerSecond?: number }) {
  const ids = ['s1', 's2', 's3'];
  const hub = new MemoryHub();
  const transports = new Map<string, MemoryTransport>();
  const nodes = new Map<string, { node: RaftNode<number>; sm: CounterSM }>();
  const chunkBytesSent = { n: 0, requests: 0 };
  for (const id of ids) {
    const t = hub.endpoint({ nodeId: id });
    await t.listen();
    // Count snapshot chunk bytes put on the wire.
    const request = t.request.bind(t);
    t.request = (peer, groupId, payload, o) => {
      if (payload[0] === SNAPSHOT_CHUNK) {
        chunkBytesSent.n += decodeEnvelope(payload).body.byteLength;
        chunkBytesSent.requests++;
      }
      return request(peer, groupId, payload, o);
    };
    transports.set(id, t);
    const sm = new CounterSM();
    const node = await RaftNode.start<number>({
      id,
      groupId: 'snap',
      storage: new MemoryNodeStorage(),
      stateMachine: sm,
      transport: t,
      initialVoters: ids,
      tickMs: 10,
      electionTimeoutMs: 100,
      heartbeatIntervalMs: 20,
      snapshotEveryEntries: 50,
      snapshotMarginEntries: 0,
      snapshotTransfer: { chunkBytes: opts.chunkBytes, bytesPerSecond: opts.bytesPerSecond ?? 0, chunkTimeoutMs: 300 },
      random: seededRand(ids.indexOf(id) + 7),
    });
    nodes.set(id, { node, sm });
  }
  await waitFor(() => [...nodes.values()].some((n) => n.node.isLeader), 5000, 'leader');
  const leader = [...nodes.values()].find((n) => n.node.isLeader)!;
  const lagger = [...nodes.entries()].find(([, n]) => !n.node.isLeader)![0];
  const stop = async () => {
    for (const n of nodes.values()) await n.node.stop();
    for (const t of transports.values()) await t.close();
  };
  return { hub, nodes, leader, lagger, chunkBytesSent, stop };
}

test('InstallSnapshot travels in chunks and resumes after a dropped connection', { timeout: 30_000 }, async () => {
  const { hub, nodes, leader, lagger, chunkBytesSent, stop } = await setup({ chunkBytes: 512 });
  try {
    hub.isolate(lagger);
    // ~200 entries with a growing log in the state machine: a snapshot of several KiB.
    for (let i = 0; i < 200; i++) await leader.node.apply({ data: enc(`add:1|padding-${'x'.repeat(20)}-${i}`) });
    await waitFor(() => leader.node.status().snapshotIndex > 150, 5000, 'leader snapshot');
    const snapBytes = leader.sm.saveSnapshot().data.byteLength;
    hub.heal();
    // Cut the follower off again once some chunks have gone through, then heal: it resumes.
    await waitFor(() => chunkBytesSent.requests >= 3, 5000, 'first chunks');
    hub.isolate(lagger);
    await new Promise((r) => setTimeout(r, 400));
    hub.heal();
    const f = nodes.get(lagger)!;
    await waitFor(() => f.sm.value === 200, 15_000, 'follower catches up');
    assert.ok(f.node.status().snapshotIndex > 0, 'the follower installed a snapshot');
    assert.ok(chunkBytesSent.requests > snapBytes / 512, `sent in chunks (${chunkBytesSent.requests} requests for ${snapBytes} bytes)`);
    // Resumed, not restarted: well under two full copies of the data went over the wire (a
    // restart from offset 0 would resend everything before the cut).
    assert.ok(chunkBytesSent.n < snapBytes * 1.5, `resumed: ${chunkBytesSent.n} data bytes sent for a ${snapBytes}-byte snapshot`);
  } finally {
    await stop();
  }
});

test('InstallSnapshot respects the throughput limit', { timeout: 30_000 }, async () => {
  const rate = 20_000; // bytes per second
  const { hub, nodes, leader, lagger, chunkBytesSent, stop } = await setup({ chunkBytes: 1000, bytesPerSecond: rate });
  try {
    hub.isolate(lagger);
    for (let i = 0; i < 120; i++) await leader.node.apply({ data: enc(`add:1|${'y'.repeat(60)}-${i}`) });
    await waitFor(() => leader.node.status().snapshotIndex > 50, 5000, 'leader snapshot');
    const t0 = Date.now();
    hub.heal();
    const f = nodes.get(lagger)!;
    await waitFor(() => f.node.status().snapshotIndex > 0, 20_000, 'snapshot installed');
    const elapsed = Date.now() - t0;
    const sent = chunkBytesSent.n;
    assert.ok(sent > 3000, `a multi-chunk snapshot was sent (${sent} bytes)`);
    // Pacing: each chunk waits for the previous one's share of the rate, so the transfer takes
    // at least (bytes - one chunk) / rate.
    const floor = ((sent - 1000) / rate) * 1000;
    assert.ok(elapsed >= floor, `took ${elapsed} ms for ${sent} bytes at ${rate} B/s (floor ${Math.round(floor)} ms)`);
  } finally {
    await stop();
  }
});

test('a retried last chunk whose reply was lost is answered "done", not restarted from zero', async () => {
  const { SnapshotReceiver } = await import('../../src/raft/runtime/snapshot-transfer.js');
  const { encodeEnvelope: env } = await import('../../src/raft/runtime/rpc-router.js');
  let handler: ((g: string, p: Uint8Array, peer: string) => Promise<Uint8Array> | Uint8Array) | undefined;
  const port = { request: () => Promise.reject(new Error('unused')), onRequest: (h: typeof handler) => (handler = h) };
  const delivered: unknown[] = [];
  SnapshotReceiver.of(port, 'f').register('g', (m) => delivered.push(m));
  const conf = { voters: ['l', 'f'], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
  const base = { from: 'l', term: 3, index: 40, snapTerm: 2, total: 6 };
  const send = async (offset: number, bytes: number[]) =>
    decodeEnvelope<{ next: number; done: boolean }>(await handler!('g', env(SNAPSHOT_CHUNK, { ...base, offset, ...(offset === 0 ? { confState: conf } : {}) }, new Uint8Array(bytes)), 'l')).header;
  assert.deepEqual(await send(0, [1, 2, 3]), { next: 3, done: false });
  assert.deepEqual(await send(3, [4, 5, 6]), { next: 6, done: true });
  assert.equal(delivered.length, 1);
  // The reply to the last chunk was lost; the leader sends it again.
  assert.deepEqual(await send(3, [4, 5, 6]), { next: 6, done: true });
  assert.equal(delivered.length, 1, 'installed once');
  // A chunk from the middle of a transfer this node has not seen is told to start over.
  const other = decodeEnvelope<{ next: number; done: boolean }>(await handler!('g', env(SNAPSHOT_CHUNK, { ...base, index: 90, offset: 3 }, new Uint8Array([9])), 'l')).header;
  assert.deepEqual(other, { next: 0, done: false });
});
