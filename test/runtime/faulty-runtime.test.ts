// The runtime (RaftNode with its Ready loop, applier and proposals) under faults: an in-memory
// transport that partitions, and disks that lose unsynced writes or tear the last batch on a
// crash. Every acknowledged write must survive exactly once and the replicas must converge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRand } from '../../src/raft/core/random.js';
import { RaftNodeError } from '../../src/raft/runtime/errors.js';
import { RaftNode } from '../../src/raft/runtime/raft-node.js';
import { MemoryHub } from '../../src/transport/memory-transport.js';
import { CounterSM, enc, waitFor } from './helpers.js';
import { FaultyDisk, type FaultyStorage } from './faulty-storage.js';

interface Member {
  disk: FaultyDisk;
  storage: FaultyStorage;
  node: RaftNode<number>;
  sm: CounterSM;
  up: boolean;
  transport: { close(): Promise<void> };
}

test('runtime under crashes, torn writes and partitions keeps every acknowledged write exactly once', { timeout: 60_000 }, async () => {
  const ids = ['r1', 'r2', 'r3'];
  const rand = seededRand(2024);
  const hub = new MemoryHub();
  const members = new Map<string, Member>();

  const start = async (id: string, disk: FaultyDisk, torn: boolean): Promise<Member> => {
    const storage = disk.open(torn ? (n) => rand.int(n + 1) : () => 0);
    const sm = new CounterSM();
    const transport = hub.endpoint({ nodeId: id });
    await transport.listen();
    const node = await RaftNode.start<number>({
      id,
      storage,
      stateMachine: sm,
      transport,
      initialVoters: ids,
      tickMs: 10,
      electionTimeoutMs: 100,
      heartbeatIntervalMs: 20,
      requestTimeoutMs: 2000,
      snapshotEveryEntries: 40,
      snapshotMarginEntries: 5,
      random: seededRand(rand.int(1e9)),
    });
    return { disk, storage, node, sm, up: true, transport };
  };
  for (const id of ids) members.set(id, await start(id, new FaultyDisk(), false));

  const acked = new Set<number>();
  const unknown = new Set<number>();
  let next = 0;
  let stop = false;
  const client = async (): Promise<void> => {
    while (!stop) {
      const leader = [...members.values()].find((m) => m.up && m.node.isLeader);
      if (!leader) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const n = next++;
      try {
        await leader.node.apply({ data: enc(`add:${2 ** (n % 20)}|${n}`) });
        acked.add(n);
      } catch (err) {
        // Definitely not applied: NOT_LEADER, BUSY, LEADER_CHANGED, ...; otherwise unknown.
        if (!(err instanceof RaftNodeError) || !err.retryable) unknown.add(n);
      }
    }
  };
  const clients = [client(), client(), client()];

  // Faults for a few seconds: crash/restart (sometimes with a torn write), partitions.
  for (let round = 0; round < 12; round++) {
    await new Promise((r) => setTimeout(r, 150 + rand.int(150)));
    const victim = ids[rand.int(ids.length)]!;
    const m = members.get(victim)!;
    const fault = rand.int(3);
    if (fault === 0 && m.up) {
      m.storage.kill();
      m.up = false;
      await m.node.stop();
      await m.transport.close();
      hub.isolate(victim);
      await new Promise((r) => setTimeout(r, 50 + rand.int(200)));
      hub.heal();
      members.set(victim, await start(victim, m.disk, rand.int(2) === 0));
    } else if (fault === 1) {
      hub.isolate(victim);
      await new Promise((r) => setTimeout(r, 100 + rand.int(200)));
      hub.heal();
    }
  }
  hub.heal();
  stop = true;
  await Promise.all(clients);

  // Convergence: every replica applies the same sequence.
  await waitFor(() => {
    const logs = [...members.values()].map((m) => m.sm.log.join(','));
    return logs.every((l) => l === logs[0]);
  }, 10_000, 'replicas to converge');
  const applied = [...members.values()][0]!.sm.log.map((cmd) => Number(cmd.split('|')[1]));
  const count = new Map<number, number>();
  for (const n of applied) count.set(n, (count.get(n) ?? 0) + 1);
  for (const n of acked) assert.equal(count.get(n), 1, `acknowledged write ${n} applied exactly once`);
  for (const [n, c] of count) assert.equal(c, 1, `write ${n} applied ${c} times`);
  assert.ok(acked.size > 50, `enough writes acknowledged (${acked.size})`);
  for (const m of members.values()) await m.node.stop();
});
