// End to end: RaftNodes of two groups on three processes-worth of TcpTransports. Every pair of
// transports shares one connection carrying both groups; the groups elect and replicate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryNodeStorage } from '../../src/raft/runtime/node-storage.js';
import { RaftNode } from '../../src/raft/runtime/raft-node.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { CounterSM, enc } from '../runtime/helpers.js';
import { CaptureLogger, waitFor } from './helpers.js';

test('RaftNode over TcpTransport: two groups on three nodes elect and replicate over one connection per pair', async () => {
  const ids = ['n1', 'n2', 'n3'];
  const transports = new Map<string, TcpTransport>();
  for (const id of ids) {
    const t = new TcpTransport({ nodeId: id, logger: new CaptureLogger(), backoffBaseMs: 20, backoffMaxMs: 200 });
    transports.set(id, t);
  }
  const ports = new Map<string, number>();
  for (const [id, t] of transports) ports.set(id, (await t.listen()).port);
  for (const [id, t] of transports) for (const [peer, port] of ports) if (peer !== id) t.setPeer(peer, '127.0.0.1', port);

  const nodes: { group: string; node: RaftNode<number>; sm: CounterSM }[] = [];
  try {
    for (const group of ['region-a', 'region-b']) {
      for (const id of ids) {
        const sm = new CounterSM();
        const node = await RaftNode.start<number>({
          id,
          groupId: group,
          storage: new MemoryNodeStorage(),
          stateMachine: sm,
          transport: transports.get(id)!,
          initialVoters: ids,
          tickMs: 10,
          electionTimeoutMs: 100,
          heartbeatIntervalMs: 20,
        });
        nodes.push({ group, node, sm });
      }
    }
    for (const group of ['region-a', 'region-b']) {
      const members = nodes.filter((n) => n.group === group);
      await waitFor(() => members.some((n) => n.node.isLeader), 5000, `a leader in ${group}`);
      const leader = members.find((n) => n.node.isLeader)!;
      await Promise.all(Array.from({ length: 50 }, () => leader.node.apply({ data: enc('add:2') })));
      await waitFor(() => members.every((n) => n.sm.value === 100), 5000, `${group} replicated`);
    }
    // Connections are lazy (followers may never talk to each other), but never more than one per pair.
    for (const n of nodes.filter((x) => x.node.isLeader)) assert.equal(transports.get(n.node.id)!.stats().openConnections, 2);
    for (const t of transports.values()) assert.ok(t.stats().openConnections <= 2, 'at most one connection per peer pair');
  } finally {
    for (const n of nodes) await n.node.stop();
    await Promise.all([...transports.values()].map((t) => t.close()));
  }
});
