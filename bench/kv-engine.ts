// Benchmark of the KV engines: put N keys (16-byte random keys, 256-byte values) in batches of
// 100 per transaction, then random gets of existing keys, then range scans of 1000 entries from
// random start keys, and a full export. Prints ops/s for each engine.
//
//   node dist/bench/kv-engine.js [--keys 200000] [--dir <path>] [--engines memory] (the lmdb engine is parked, see src/kv/engine/lmdb-engine.ts.parked)
//
// The LMDB directory defaults to a fresh one under os.tmpdir() and is removed afterwards. LMDB is
// opened with noSync (as in production: the Raft log is the WAL), so disk speed matters little.

import { parseArgs } from 'node:util';
import type { KvEngine } from '../src/kv/engine/engine.js';
import { MemoryEngine } from '../src/kv/engine/memory-engine.js';
import { seededRand } from '../src/raft/core/random.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    engines: { type: 'string', default: 'memory' },
  },
});
const N = Number(values.keys);
const KEY_BYTES = 16;
const VALUE_BYTES = 256;
const BATCH = 100;
const GETS = N;
const SCANS = 200;
const SCAN_LIMIT = 1000;

function randomBytes(rand: { int(n: number): number }, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rand.int(256);
  return b;
}

function rate(ops: number, ms: number): string {
  return `${Math.round((ops / ms) * 1000).toLocaleString('en-US')}/s`.padStart(14);
}

async function run(name: string, engine: KvEngine): Promise<void> {
  const rand = seededRand(42);
  const keys: Uint8Array[] = Array.from({ length: N }, () => randomBytes(rand, KEY_BYTES));
  const value = randomBytes(rand, VALUE_BYTES);

  let t = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    engine.transaction((tx) => {
      const end = Math.min(N, i + BATCH);
      for (let j = i; j < end; j++) {
        value[0] = j & 255; // callers reuse buffers: the engine must copy
        tx.put(keys[j]!, value);
      }
    });
  }
  const putMs = performance.now() - t;

  t = performance.now();
  let found = 0;
  for (let i = 0; i < GETS; i++) if (engine.get(keys[rand.int(N)]!) !== undefined) found++;
  const getMs = performance.now() - t;
  if (found !== GETS) throw new Error(`${name}: ${GETS - found} gets missed`);

  t = performance.now();
  let scanned = 0;
  for (let i = 0; i < SCANS; i++) {
    scanned += engine.scan({ start: keys[rand.int(N)]!, limit: SCAN_LIMIT, reverse: i % 2 === 1 }).length;
  }
  const scanMs = performance.now() - t;

  t = performance.now();
  const all = engine.exportAll().length;
  const exportMs = performance.now() - t;
  if (all !== N || engine.count() !== N) throw new Error(`${name}: expected ${N} keys, got ${all}`);

  console.log(`${name}:`);
  console.log(`  put (batches of ${BATCH})     ${rate(N, putMs)}  (${N} keys in ${putMs.toFixed(0)} ms)`);
  console.log(`  random get               ${rate(GETS, getMs)}`);
  console.log(`  scan (${SCAN_LIMIT} entries)      ${rate(SCANS, scanMs)}  = ${rate(scanned, scanMs).trim()} entries`);
  console.log(`  exportAll                ${rate(all, exportMs)} entries  (${exportMs.toFixed(0)} ms)`);
}

const wanted = new Set(values.engines.split(','));
console.log(`kv-engine bench: ${N} keys of ${KEY_BYTES} B, values of ${VALUE_BYTES} B, node ${process.version}`);
if (wanted.has('memory')) {
  const e = new MemoryEngine();
  await run('memory', e);
  await e.close();
}
