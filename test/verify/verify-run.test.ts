// The verification pipeline end to end on real processes: a bounded run with every nemesis is
// linearizable with identical replicas, and the same pipeline catches a real bug (reads served
// by a deposed leader without ReadIndex) under partitions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ALL_NEMESES, runVerify } from '../../src/verify/runner.js';

test('verify: every nemesis against a real 3-node cluster, history linearizable, replicas identical', { timeout: 120_000 }, async () => {
  const r = await runVerify({ seed: 11, timeSec: 7, nemesis: ALL_NEMESES });
  assert.ok(r.ops > 500, `enough operations (${r.ops})`);
  assert.ok(r.faults.length >= 3, `faults injected: ${r.faults.join('; ')}`);
  assert.equal(r.linearizable, 'ok', r.report);
  assert.ok(r.replicasIdentical);
});

test('verify catches a real bug: leader-local reads without ReadIndex are not linearizable under partitions', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'raftkv-verify-'));
  try {
    let found: Awaited<ReturnType<typeof runVerify>> | undefined;
    for (const seed of [2, 3, 4, 5]) {
      const r = await runVerify({ seed, timeSec: 7, nemesis: ['partition'], unsafeLeaderLocalReads: true, outDir: out });
      if (r.linearizable === 'illegal') {
        found = r;
        break;
      }
    }
    assert.ok(found, 'some partition run reports a linearizability violation');
    assert.match(found.report!, /NOT LINEARIZABLE/);
    assert.match(found.report!, /get\(k\d\) -> /);
    assert.ok(found.htmlFile?.endsWith('.html'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
