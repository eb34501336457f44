// bench:kv — 3 KV store processes on 127.0.0.1 (lmdb engine, Raft log fsync on), 8-byte keys,
// 256-byte values, closed-loop callers (one request outstanding each) at several concurrencies,
// through the smart client (routing, leader cache, automatic batching). Workloads: put,
// linearizable get, and a 90/10 mix (90% gets, 10% puts). Prints ops/s and latency percentiles
// and appends the table to BENCHMARKS.md.
//
//   npm run bench:kv [-- --seconds 8 --concurrency 1,16,64,256 --workloads put,get,mix
//                        --regions 1 --keys 10000 --no-batching --no-record]
//
// The reference (../shared/notes/etcd-on-this-machine.md): etcd 3.4 on this machine, same
// workload: ~930 puts/s with 1 caller; 8,800 puts/s and 8,500 linearizable gets/s with 256.

import { parseArgs } from 'node:util';
import { createClient } from '../src/kv/client/index.js';
import { KV_STORE_MAIN, ProcCluster } from '../src/verify/proc-cluster.js';
import { type Row, appendToBenchmarks, closedLoop, printTable } from './report.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,16,64,256' },
    workloads: { type: 'string', default: 'put,get,mix' },
    regions: { type: 'string', default: '1' },
    keys: { type: 'string', default: '10000' },
    engine: { type: 'string', default: 'lmdb' },
    'no-batching': { type: 'boolean', default: false },
    'no-record': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const levels = values.concurrency.split(',').map(Number);
const workloads = values.workloads.split(',');
const keyCount = Number(values.keys);
const regionCount = Number(values.regions);
const batching = !values['no-batching'];

/** 8-byte keys "k0000042"; region boundaries evenly spaced over the key numbers. */
const keyOf = (i: number): string => `k${String(i).padStart(7, '0')}`;
const splitKeys = Array.from({ length: regionCount - 1 }, (_, i) => keyOf(Math.round(((i + 1) * keyCount) / regionCount)));

const cluster = await ProcCluster.create(['s1', 's2', 's3'], ['--engine', values.engine, '--tick-ms', '100', '--election-timeout-ms', '1000', ...(splitKeys.length > 0 ? ['--split-keys', splitKeys.join(',')] : [])], { main: KV_STORE_MAIN });
const endpoints = [...cluster.nodes.values()].map((n) => `127.0.0.1:${n.port}`);
const rows: Row[] = [];
try {
  await cluster.startAll();
  const value = 'v'.repeat(256);
  // Preload every key (the gets read existing values), through one batching client.
  const loader = createClient({ endpoints, timeoutMs: 60_000 });
  for (let i = 0; i < keyCount; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, keyCount - i) }, (_, j) => loader.put(keyOf(i + j), value)));
  }
  await loader.close();

  for (const w of workloads) {
    for (const n of levels) {
      const c = createClient({ endpoints, timeoutMs: 30_000, batching: batching ? {} : false });
      let seed = 12345 + n;
      const rnd = (): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed;
      };
      const one = (): Promise<unknown> => {
        const key = keyOf(rnd() % keyCount);
        if (w === 'put' || (w === 'mix' && rnd() % 10 === 0)) return c.put(key, value);
        return c.get(key);
      };
      const r = await closedLoop({ concurrency: n, warmupSec: warmup, seconds, op: one });
      await c.close();
      const name = w === 'put' ? 'put 256 B' : w === 'get' ? 'get (linearizable)' : 'mix 90% get / 10% put';
      rows.push({ workload: name, concurrency: n, ...r });
      printTable(rows.slice(-1));
    }
  }
} finally {
  await Promise.all([...cluster.nodes.keys()].map((id) => cluster.terminate(id)));
  await cluster.stop();
}
console.log('');
printTable(rows);
if (!values['no-record']) {
  appendToBenchmarks(
    'bench:kv — 3 store processes, fsync on',
    `npm run bench:kv -- --seconds ${seconds} --concurrency ${levels.join(',')} --workloads ${workloads.join(',')} --regions ${regionCount} --keys ${keyCount}${batching ? '' : ' --no-batching'}`,
    `3 raftkv store processes (${values.engine} engine, Raft log on DiskStorage with fdatasync per batch) + 1 client process on 127.0.0.1 sharing 2 cores; ${regionCount} region(s); ${keyCount} preloaded 8-byte keys, 256-byte values, uniform random keys; closed loop (one request outstanding per caller) through the KV client with automatic batching ${batching ? 'on' : 'off'}; linearizable gets use ReadIndex; ${warmup} s warm-up then ${seconds} s measured per level. etcd 3.4 on this machine (notes): 930 puts/s @1, 8,800 puts/s @256, 8,500 linearizable gets/s @256`,
    rows,
  );
}
