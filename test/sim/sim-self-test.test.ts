// The simulator must be able to fail: a deliberately broken core rule and a deliberately lost
// write are both caught. And a run is a pure function of its seed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simOptions } from '../../src/sim/options.js';
import { runSim } from '../../src/sim/run.js';

test('a run is deterministic: same seed, same trace hash and outcome', () => {
  for (const nodes of [1, 3, 5]) {
    const a = runSim(simOptions({ seed: 4242, nodes }));
    const b = runSim(simOptions({ seed: 4242, nodes }));
    assert.equal(a.traceHash, b.traceHash);
    assert.deepEqual(a.stats, b.stats);
    assert.equal(a.ok, b.ok);
    assert.equal(a.violation?.message, b.violation?.message);
    const c = runSim(simOptions({ seed: 4243, nodes }));
    assert.notEqual(a.traceHash, c.traceHash, 'different seeds should give different runs');
  }
});

test('the simulator catches the Figure 8 bug (unsafeCommitPreviousTerm) within a bounded number of seeds', () => {
  const safety = new Set(['leader-completeness', 'state-machine-safety', 'lost-write', 'stale-read']);
  const seen: string[] = [];
  let found: number | undefined;
  for (let seed = 1; seed <= 80 && found === undefined; seed++) {
    const r = runSim(simOptions({ seed, nodes: 3, style: 'leader-churn', faultMs: 10000, unsafeCommitPreviousTerm: true }));
    if (r.ok) continue;
    seen.push(`${seed}: ${r.violation!.kind}`);
    if (safety.has(r.violation!.kind)) {
      found = seed;
      assert.match(r.replay, /--unsafe-commit-previous-term/);
      assert.ok(r.trace.split('\n').length >= 40, 'the report carries the trace');
    }
  }
  assert.ok(found !== undefined, `no safety violation found in 80 seeds (other failures: ${seen.join(', ') || 'none'})`);
});

test('a lost acknowledged write is detected', () => {
  for (const node of ['n1', 'n2']) {
    const r = runSim(simOptions({ seed: 7, nodes: 3, faults: 'none', dropAppliedEntry: { node, index: 6 } }));
    assert.equal(r.ok, false, `dropping an applied entry on ${node} went unnoticed`);
    assert.equal(r.violation!.kind, 'lost-write', r.violation!.message);
    assert.match(r.violation!.message, /LOST write \d+ .*acknowledged|never applied/);
  }
});
