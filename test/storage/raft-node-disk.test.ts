import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RaftNode } from '../../src/raft/runtime/raft-node.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { CounterSM, LoopbackHub, enc, waitFor } from '../runtime/helpers.js';
import { tmpDir } from './helpers.js';

test('RaftNode on DiskStorage: snapshots, compaction, a snapshot sent to a lagging follower, full restart', async () => {
  const root = tmpDir();
  const crashRoot = tmpDir();
  const ids = ['n1', 'n2', 'n3'];
  let hub = new LoopbackHub();
  const storageOpts = { segmentBytes: 4096, cacheBytes: 2048 };
  const storages = new Map<string, DiskStorage>();
  const start = async (id: string, sm: CounterSM, dataRoot = root) => {
    const storage = await DiskStorage.open(join(dataRoot, id), storageOpts);
    storages.set(id, storage);
    return RaftNode.start<number>({
      id,
      storage,
      stateMachine: sm,
      transport: hub.port(id),
      initialVoters: ids,
      tickMs: 10,
      electionTimeoutMs: 100,
      heartbeatIntervalMs: 20,
      snapshotEveryEntries: 40,
      snapshotMarginEntries: 10,
    });
  };
  let nodes = new Map<string, { node: RaftNode<number>; sm: CounterSM }>();
  for (const id of ids) {
    const sm = new CounterSM();
    nodes.set(id, { node: await start(id, sm), sm });
  }
  const leader = async () => {
    await waitFor(() => [...nodes.values()].some((n) => n.node.isLeader), 5000, 'a leader');
    return [...nodes.values()].find((n) => n.node.isLeader)!;
  };
  try {
    let l = await leader();
    for (let k = 0; k < 100; k++) await l.node.apply({ data: enc('add:1') });
    // One follower drops off; the group moves on, snapshotting and compacting past it.
    const lagging = ids.find((id) => nodes.get(id)!.node !== l.node)!;
    hub.down.add(lagging);
    for (let k = 0; k < 200; k++) {
      await l.node.apply({ data: enc('add:1') });
      // A crash image: every node's files as the kernel has them now (kill -9 of all three).
      if (k === 149) for (const id of ids) cpSync(join(root, id), join(crashRoot, id), { recursive: true });
    }
    assert.ok(l.node.status().snapshotIndex > 150, `leader snapshot at ${l.node.status().snapshotIndex}`);
    const leaderId = ids.find((id) => nodes.get(id)!.node === l.node)!;
    const lagLast = storages.get(lagging)!.lastIndex();
    assert.ok(storages.get(leaderId)!.firstIndex() > lagLast + 1, 'the leader compacted past the lagging follower');
    hub.down.delete(lagging);
    await waitFor(() => [...nodes.values()].every((n) => n.sm.value === 300), 5000, 'all replicas at 300');
    assert.ok(nodes.get(lagging)!.node.status().snapshotIndex > 100, 'the lagging follower caught up from a snapshot');

    // Everyone stops; everyone restarts from disk.
    for (const n of nodes.values()) await n.node.stop();
    const restarted = new Map<string, { node: RaftNode<number>; sm: CounterSM }>();
    for (const id of ids) {
      const sm = new CounterSM();
      restarted.set(id, { node: await start(id, sm), sm });
    }
    nodes = restarted;
    l = await leader();
    const r = await l.node.apply({ data: enc('add:5') });
    assert.equal(r.result, 305);
    await waitFor(() => [...nodes.values()].every((n) => n.sm.value === 305), 5000, 'all replicas at 305 after restart');
    for (const n of nodes.values()) await n.node.stop();

    // Boot from the crash image: exactly the 250 writes acknowledged before it survive.
    hub = new LoopbackHub();
    const fromCrash = new Map<string, { node: RaftNode<number>; sm: CounterSM }>();
    for (const id of ids) {
      const sm = new CounterSM();
      fromCrash.set(id, { node: await start(id, sm, crashRoot), sm });
    }
    nodes = fromCrash;
    l = await leader();
    assert.equal((await l.node.apply({ data: enc('add:0') })).result, 250);
  } finally {
    for (const n of nodes.values()) await n.node.stop();
  }
});
