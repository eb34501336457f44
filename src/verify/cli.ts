// npm run verify -- --time 60 --nemesis all --seed S [--nodes 3] [--unsafe-leader-local-reads]
//
// Runs a real cluster under faults with recording clients, then checks the history for
// linearizability and the replicas for identical state. Exit code 1 on a violation.

import { parseArgs } from 'node:util';
import { ALL_NEMESES, type NemesisKind, runVerify } from './runner.js';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '30' },
    nemesis: { type: 'string', default: 'all' },
    seed: { type: 'string' },
    nodes: { type: 'string', default: '3' },
    clients: { type: 'string', default: '6' },
    keys: { type: 'string', default: '4' },
    'unsafe-leader-local-reads': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run verify -- [--time SECONDS] [--nemesis all|none|kill,pause,partition,transfer,slow-disk] [--seed S]
                         [--nodes N] [--clients N] [--keys N] [--unsafe-leader-local-reads]
example: npm run verify -- --time 60 --nemesis all --seed 7`);
  process.exit(0);
}
const nemesis: NemesisKind[] =
  values.nemesis === 'all' ? [...ALL_NEMESES] : values.nemesis === 'none' ? [] : (values.nemesis.split(',') as NemesisKind[]);
for (const n of nemesis) {
  if (!ALL_NEMESES.includes(n)) {
    console.error(`unknown nemesis '${n}' (known: ${ALL_NEMESES.join(', ')}, all, none)`);
    process.exit(2);
  }
}
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 1e6);
const started = Date.now();
const r = await runVerify({
  seed,
  timeSec: Number(values.time),
  nodes: Number(values.nodes),
  clients: Number(values.clients),
  keys: Number(values.keys),
  nemesis,
  unsafeLeaderLocalReads: values['unsafe-leader-local-reads'],
  log: (l) => console.log(`  [${((Date.now() - started) / 1000).toFixed(1)} s] ${l}`),
});
console.log('');
console.log(`seed ${r.seed}: ${r.ops} operations checked (${r.ok} completed, ${r.unknown} of unknown outcome; ${r.failed} failed and dropped), ${r.faults.length} faults`);
console.log(`linearizable: ${r.linearizable}; replicas identical: ${r.replicasIdentical ? 'yes' : 'NO'}`);
if (r.report) console.log(`\n${r.report}`);
if (r.htmlFile) console.log(`timeline: ${r.htmlFile}`);
console.log(`replay: npm run verify -- --time ${values.time} --nemesis ${values.nemesis} --seed ${seed} --nodes ${values.nodes}${values['unsafe-leader-local-reads'] ? ' --unsafe-leader-local-reads' : ''}`);
process.exit(r.linearizable === 'ok' && r.replicasIdentical ? 0 : 1);
