// `raftkv bench`: bench/kv.ts's workloads against a cluster that is already running (the dev
// cluster, a staging cluster), with a live progress bar on a terminal and HDR percentiles.
// This file is the command line; bench-main.ts runs it (imported only when bench runs: the
// histogram and progress-bar libraries are slow to load for every other command).

import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Workload } from './bench-run.js';
import { type ConnectionOptions, intListParser, intParser, withConnection } from './common.js';
import { EXIT_CODES_HELP } from './errors.js';

export interface BenchOptions extends ConnectionOptions {
  workload: Workload[];
  concurrency: number[];
  seconds: number;
  warmup: number;
  keys: number;
  valueSize: number;
  prefix: string;
  preload: boolean;
  batching: boolean;
  progress: boolean;
}

const WORKLOADS: readonly string[] = ['put', 'get', 'mix'];

function workloadList(value: string): Workload[] {
  const list = value.split(',').map((s) => s.trim());
  for (const w of list) if (!WORKLOADS.includes(w)) throw new InvalidArgumentError(`--workload takes ${WORKLOADS.join(', ')} (comma-separated for several)`);
  return list as Workload[];
}

export function registerBench(program: Command): void {
  withConnection(program.command('bench').description('measure throughput and latency of a running cluster (put, linearizable get, 90/10 get/put mix)'))
    .addOption(new Option('--workload <list>', 'put | get | mix (90% get, 10% put); comma-separated for several').argParser(workloadList).default(['mix'], 'mix'))
    .addOption(new Option('--concurrency <list>', 'closed-loop callers (one request outstanding each), one run per value').argParser(intListParser('--concurrency')).default([1, 16, 64, 256], '1,16,64,256'))
    .addOption(new Option('--seconds <n>', 'measured seconds per run').argParser(intParser('--seconds', 1)).default(5))
    .addOption(new Option('--warmup <n>', 'unmeasured seconds before each run').argParser(intParser('--warmup', 0)).default(1))
    .addOption(new Option('--keys <n>', 'distinct keys (uniform random)').argParser(intParser('--keys', 1)).default(10_000))
    .addOption(new Option('--value-size <bytes>', 'bytes per value').argParser(intParser('--value-size', 0)).default(256))
    .option('--prefix <p>', 'key prefix, to keep benchmark keys apart from real ones', 'bench/')
    .option('--no-preload', 'do not write every key before get/mix runs')
    .option('--no-batching', "turn off the client's automatic batching of concurrent puts and gets")
    .option('--no-progress', 'no progress bar (it is also off when stderr is not a terminal, and with --json)')
    .addHelpText(
      'after',
      `
Examples:
  $ raftkv bench
  $ raftkv bench --workload put,get --concurrency 1,64 --seconds 10
  $ raftkv bench --workload get --seconds 1 --json > result.json

Keys are <prefix>k0000000.. and are overwritten by put runs. Latencies are per request, end to
end, in milliseconds; ops/s counts successful requests. The table goes to stdout, the progress
bar to stderr (only on a terminal).
${EXIT_CODES_HELP}
`,
    )
    .action(async (o: BenchOptions) => (await import('./bench-main.js')).runBench(o));
}
