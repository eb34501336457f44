// bench:raft — a 3-process Raft group on 127.0.0.1 (fsync on, real disk), 256-byte entries,
// closed-loop proposers (one request outstanding each) at several concurrencies. Prints ops/s
// and latency percentiles and appends the table to BENCHMARKS.md.
//
//   npm run bench:raft [-- --seconds 10 --concurrency 1,16,64,256 --no-record]

import { parseArgs } from 'node:util';
import { ProcCluster } from '../src/verify/proc-cluster.js';
import { type Row, appendToBenchmarks, closedLoop, printTable } from './report.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,16,64,256' },
    'value-bytes': { type: 'string', default: '256' },
    'no-record': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const levels = values.concurrency.split(',').map(Number);
const valueBytes = Number(values['value-bytes']);

const cluster = await ProcCluster.create(['n1', 'n2', 'n3'], ['--tick-ms', '100', '--election-timeout-ms', '1000', '--snapshot-every', '100000']);
const rows: Row[] = [];
try {
  await cluster.startAll();
  const probe = cluster.client();
  await cluster.leader(probe);
  await probe.close();
  for (const n of levels) {
    const c = cluster.client({ timeoutMs: 30_000 });
    const payload = new Uint8Array(valueBytes).fill(0x61);
    const r = await closedLoop({ concurrency: n, warmupSec: warmup, seconds, op: () => c.apply(payload) });
    await c.close();
    rows.push({ workload: `put ${valueBytes} B`, concurrency: n, ...r });
    printTable(rows.slice(-1));
  }
} finally {
  await Promise.all([...cluster.nodes.keys()].map((id) => cluster.terminate(id)));
  await cluster.stop();
}
console.log('');
printTable(rows);
if (!values['no-record']) {
  appendToBenchmarks(
    'bench:raft — 3 node processes, fsync on',
    `npm run bench:raft -- --seconds ${seconds} --concurrency ${levels.join(',')}`,
    `3 raftkv node processes + 1 client process on 127.0.0.1 sharing the machine, DiskStorage with fdatasync per batch, ${valueBytes}-byte entries, closed loop (one request outstanding per caller), ${warmup} s warm-up then ${seconds} s measured per level`,
    rows,
  );
}
