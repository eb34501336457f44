// A bounded batch of simulator seeds with every fault on, for 1, 3 and 5 nodes. Each seed is a
// complete run (fault phase, heal, liveness phase, final checks). A failure names the exact
// replay command of every failing seed and prints the full report of the first one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simOptions } from '../../src/sim/options.js';
import { type RunResult, formatFailure, runSim } from '../../src/sim/run.js';

function runBatch(nodes: number, first: number, count: number): void {
  const failures: RunResult[] = [];
  let acked = 0;
  for (let seed = first; seed < first + count; seed++) {
    const r = runSim(simOptions({ seed, nodes, faults: 'all' }));
    acked += r.stats.acked;
    if (!r.ok) failures.push(r);
  }
  if (failures.length > 0) {
    const list = failures.map((f) => `  ${f.replay}\n      ${f.violation!.message.split('\n')[0]}`).join('\n');
    assert.fail(`${failures.length}/${count} seeds failed:\n${list}\n\nfirst failure:\n${formatFailure(failures[0]!)}`);
  }
  // The batch must actually have done work, not just survived.
  assert.ok(acked > count, `only ${acked} writes acknowledged over ${count} seeds`);
}

test('simulator: 1-node clusters (growing by membership changes), all faults', () => {
  runBatch(1, 1, 150);
});

test('simulator: 3-node clusters, all faults', () => {
  runBatch(3, 1, 300);
});

test('simulator: 5-node clusters, all faults', () => {
  runBatch(5, 1, 150);
});

test('simulator: fault-free runs converge quickly', () => {
  for (const nodes of [1, 3, 5]) {
    for (let seed = 1; seed <= 10; seed++) {
      const r = runSim(simOptions({ seed, nodes, faults: 'none' }));
      assert.ok(r.ok, r.ok ? '' : formatFailure(r));
      assert.ok(r.stats.acked > 10, `seed ${seed}/${nodes}: only ${r.stats.acked} writes acknowledged`);
      assert.equal(r.stats.crashes, 0);
    }
  }
});
