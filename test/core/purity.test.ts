// The core must stay deterministic: no IO, no timers, no wall clock, no ambient randomness.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const coreDir = fileURLToPath(new URL('../../../src/raft/core/', import.meta.url));
const FORBIDDEN: Array<[RegExp, string]> = [
  [/from\s+['"](node:)?(fs|fs\/promises|net|dgram|http|https|child_process|worker_threads|timers|timers\/promises|os|crypto)['"]/, 'a Node IO/timer/crypto module'],
  [/\bDate\.now\b|\bnew Date\(/, 'the wall clock'],
  [/\bMath\.random\b/, 'ambient randomness'],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b|\bqueueMicrotask\b/, 'timers'],
  [/\bprocess\./, 'the process object'],
];

test('no module of the deterministic core touches IO, time or ambient randomness', () => {
  const files = readdirSync(coreDir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10, `core sources found in ${coreDir}`);
  for (const f of files) {
    const src = readFileSync(join(coreDir, f), 'utf8').replace(/\/\/.*$/gm, '');
    for (const [re, what] of FORBIDDEN) assert.ok(!re.test(src), `${f} uses ${what}`);
  }
});
