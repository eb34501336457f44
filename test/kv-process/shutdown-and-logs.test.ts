// Graceful shutdown of a store under load (SIGTERM): it hands its regions' leadership away,
// finishes what is in flight, exits 0, and no caller sees an error. Its logs are JSON lines
// with the node, and the region where a line is about one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from '../../src/kv/client/index.js';
import { KV_STORE_MAIN, ProcCluster } from '../process/proc-cluster.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('SIGTERM: leadership moves away, in-flight work finishes, exit 0, callers see no error; logs are JSON with node and region', { timeout: 90_000 }, async () => {
  const cluster = await ProcCluster.create(['s1', 's2', 's3'], ['--engine', 'lmdb', '--split-keys', 'm', '--tick-ms', '50', '--election-timeout-ms', '2000'], { main: KV_STORE_MAIN });
  const kv = createClient({ endpoints: [...cluster.nodes.values()].map((n) => `127.0.0.1:${n.port}`), timeoutMs: 20_000 });
  try {
    await cluster.startAll();
    await kv.put('warm-a', '1');
    await kv.put('warm-z', '1');
    // The leader as the stores report it (a store may not know it for a moment after startup).
    let victim = '';
    for (const deadline = Date.now() + 10_000; !victim && Date.now() < deadline; await sleep(100)) {
      victim = (await kv.regions()).find((r) => r.id === '1')!.leader;
    }
    assert.ok(victim, 'region 1 has a leader');
    const errors: string[] = [];
    let acked = 0;
    let stop = false;
    const loops = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          await kv.put(`${w % 2 === 0 ? 'a' : 'z'}-${w}-${i}`, 'v');
          acked++;
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    });
    await sleep(500);
    const proc = cluster.nodes.get(victim)!.proc!;
    const t0 = Date.now();
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    const code = await exited;
    const tookMs = Date.now() - t0;
    cluster.nodes.get(victim)!.proc = undefined;
    await sleep(500);
    stop = true;
    await Promise.all(loops);
    assert.equal(code, 0, `exit code (stderr: ${cluster.nodes.get(victim)!.stderr.slice(-500)})`);
    // With a 2 s election timeout, leaders elected in well under that were handed over.
    assert.ok(tookMs < 10_000, `shutdown took ${tookMs} ms`);
    assert.deepEqual(errors.slice(0, 3), [], `${errors.length} errors reached callers`);
    assert.ok(acked > 20);
    const after = await kv.regions();
    for (const r of after) assert.notEqual(r.leader, victim, `region ${r.id} is led elsewhere`);

    const lines = cluster.nodes.get(victim)!.stderr.split('\n').filter(Boolean);
    const records = lines.map((l) => JSON.parse(l) as { level: number; node: string; region?: string; msg: string });
    assert.ok(records.length > 0);
    for (const r of records) assert.equal(r.node, victim, 'every line names the node');
    assert.ok(records.some((r) => r.region === '1' && /leader/.test(r.msg)), 'role changes are logged with their region');
    assert.ok(records.some((r) => /leadership handed over/.test(r.msg)), 'the handover is logged');
    assert.ok(records.some((r) => /shutdown complete/.test(r.msg)));
  } finally {
    await kv.close();
    await Promise.all([...cluster.nodes.keys()].map((id) => cluster.terminate(id)));
    await cluster.stop();
  }
});
