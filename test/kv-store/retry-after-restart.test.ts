// Exactly-once across restarts: a call applied before every store restarted (its reply lost) and
// retried afterwards with the same call id is not applied again. Its kept result is gone, so a
// write whose only result is "done" is answered OK and one with a real result is refused with
// RESULT_UNAVAILABLE. Three real stores on lmdb, real TCP, real restarts of all three.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { RawCaller, localCluster } from './helpers.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (v: Uint8Array | null | undefined): string | null => (v ? new TextDecoder().decode(v) : null);

test('a retry after a full restart is never applied twice', async () => {
  const c = await localCluster(3, { engine: 'lmdb' });
  const raw = new RawCaller(c.addresses);
  try {
    let leader = (await c.leaderOf('1')).nodeId;
    const merge = { op: KvOp.Merge, key: b('m'), value: b('a') } as const;
    const seq = { op: KvOp.GetSequence, key: b('seq'), step: 10 } as const;
    const r1 = await raw.send(leader, '1', { callId: 1000 }, merge);
    assert.ok(r1.ok);
    const r2 = await raw.send(leader, '1', { callId: 1001 }, seq);
    assert.deepEqual(r2.ok && r2.result, { kind: 'sequence', start: 0, end: 10 });

    // Every replica applies both calls before it stops (one that had not would apply them again
    // from the log after its restart, and so learn their real replies).
    const target = c.stores.get(leader)!.regions.get('1')!.node.status().appliedIndex;
    const deadline = Date.now() + 10_000;
    while ([...c.stores.values()].some((st) => st.regions.get('1')!.node.status().appliedIndex < target)) {
      assert.ok(Date.now() < deadline, 'replicas did not catch up');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const id of ['s1', 's2', 's3']) await c.stopOne(id);
    await Promise.all(['s1', 's2', 's3'].map((id) => c.start(id)));
    leader = (await c.leaderOf('1')).nodeId;

    // The same calls again (their replies were "lost"): nothing is applied a second time.
    const again1 = await raw.send(leader, '1', { callId: 1000 }, merge);
    assert.ok(again1.ok, `merge retry: ${JSON.stringify(!again1.ok && again1.error)}`);
    assert.deepEqual(again1.result, { kind: 'ok' });
    const again2 = await raw.send(leader, '1', { callId: 1001 }, seq);
    assert.ok(!again2.ok, `seq retry answered ${JSON.stringify(again2)}`);
    assert.equal(again2.error.code, 'RESULT_UNAVAILABLE');

    const m = await raw.send(leader, '1', {}, { op: KvOp.Get, key: b('m') });
    assert.equal(m.ok && m.result.kind === 'value' && s(m.result.value), 'a', 'the merge applied once');
    const next = await raw.send(leader, '1', {}, { op: KvOp.GetSequence, key: b('seq'), step: 1 });
    assert.deepEqual(next.ok && next.result, { kind: 'sequence', start: 10, end: 11 }, 'the sequence moved once');
  } finally {
    await raw.close();
    await c.close();
  }
});
