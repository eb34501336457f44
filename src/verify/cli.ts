// npm run verify -- --time 60 --nemesis all --seed S [--workload register|kv] [--nodes 3] [--unsafe-leader-local-reads]
//
// Runs a real cluster under faults with recording clients, then checks the history for
// linearizability and the replicas for identical state. Exit code 1 on a violation.

import { parseArgs } from 'node:util';
import { ALL_KV_NEMESES, type KvNemesisKind, runVerifyKv } from './kv-runner.js';
import { ALL_NEMESES, type NemesisKind, runVerify } from './runner.js';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '30' },
    workload: { type: 'string', default: 'register' },
    nemesis: { type: 'string', default: 'all' },
    seed: { type: 'string' },
    nodes: { type: 'string', default: '3' },
    clients: { type: 'string', default: '6' },
    keys: { type: 'string', default: '4' },
    'unsafe-leader-local-reads': { type: 'boolean', default: false },
    pd: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run verify -- [--workload register|kv] [--time SECONDS] [--nemesis all|none|LIST] [--seed S]
                         [--nodes N] [--clients N] [--keys N] [--unsafe-leader-local-reads] [--pd]
  register: one Raft group (register map); nemeses ${ALL_NEMESES.join(', ')}
  kv:       the KV store, 3 stores, several regions; nemeses ${ALL_KV_NEMESES.join(', ')}
            --pd: the placement driver schedules meanwhile (auto split, a 4th store joins)
example: npm run verify -- --workload kv --time 60 --nemesis all --seed 7`);
  process.exit(0);
}
const kv = values.workload === 'kv';
if (!kv && values.workload !== 'register') {
  console.error(`unknown workload '${values.workload}' (known: register, kv)`);
  process.exit(2);
}
const known: readonly string[] = kv ? ALL_KV_NEMESES : ALL_NEMESES;
const nemesis: string[] = values.nemesis === 'all' ? [...known] : values.nemesis === 'none' ? [] : values.nemesis.split(',');
for (const n of nemesis) {
  if (!known.includes(n)) {
    console.error(`unknown nemesis '${n}' for the ${values.workload} workload (known: ${known.join(', ')}, all, none)`);
    process.exit(2);
  }
}
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 1e6);
const started = Date.now();
const log = (l: string): void => console.log(`  [${((Date.now() - started) / 1000).toFixed(1)} s] ${l}`);
const common = { seed, timeSec: Number(values.time), clients: Number(values.clients), unsafeLeaderLocalReads: values['unsafe-leader-local-reads'], log };
const r = kv
  ? await runVerifyKv({ ...common, keys: values.keys === '4' ? 8 : Number(values.keys), nemesis: nemesis as KvNemesisKind[], pd: values.pd })
  : await runVerify({ ...common, nodes: Number(values.nodes), keys: Number(values.keys), nemesis: nemesis as NemesisKind[] });
console.log('');
console.log(`seed ${r.seed}: ${r.ops} operations checked (${r.ok} completed, ${r.unknown} of unknown outcome; ${r.failed} failed and dropped), ${r.faults.length} faults`);
console.log(`linearizable: ${r.linearizable}; replicas identical: ${r.replicasIdentical ? 'yes' : 'NO'}`);
if (r.report) console.log(`\n${r.report}`);
if (r.htmlFile) console.log(`timeline: ${r.htmlFile}`);
console.log(`replay: npm run verify -- --workload ${values.workload} --time ${values.time} --nemesis ${values.nemesis} --seed ${seed} --nodes ${values.nodes}${values['unsafe-leader-local-reads'] ? ' --unsafe-leader-local-reads' : ''}${values.pd ? ' --pd' : ''}`);
process.exit(r.linearizable === 'ok' && r.replicasIdentical ? 0 : 1);
