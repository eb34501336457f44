// Runs `raftkv bench` (options: bench.ts): checks the cluster answers, preloads the keys, runs
// every workload at every concurrency with a progress bar, and prints a table or one JSON
// document. The bar goes to stderr and only on a TTY without --json, so stdout stays clean.

import cliProgress from 'cli-progress';
import type { BenchOptions } from './bench.js';
import { type BenchSetup, type LevelResult, keyOf, latencyMs, newClient, preload, runLevel } from './bench-run.js';
import { endpointsOf, printJson, printLines, table } from './common.js';
import { messageOf } from './errors.js';

export async function runBench(o: BenchOptions): Promise<void> {
  const setup: BenchSetup = { endpoints: endpointsOf(o), cluster: o.cluster, timeoutMs: o.timeoutMs, keys: o.keys, valueBytes: o.valueSize, prefix: o.prefix, batching: o.batching };
  // Fail fast (exit 3) when the cluster is not there, before any bar is drawn: a linearizable
  // read needs routes and a leader.
  const probe = newClient(setup);
  try {
    await probe.get(keyOf(setup.prefix, 0));
  } finally {
    await probe.close();
  }
  const showBar = o.progress && !o.json && process.stderr.isTTY === true;
  if (o.preload && o.workload.some((w) => w !== 'put')) {
    const bar = showBar ? newBar(`preload ${o.keys} keys`) : undefined;
    bar?.start(o.keys, 0, { info: '' });
    await preload(setup, (done) => bar?.update(done, { info: '' }));
    bar?.stop();
  }
  const results: LevelResult[] = [];
  for (const w of o.workload) {
    for (const n of o.concurrency) {
      const total = (o.warmup + o.seconds) * 10;
      const bar = showBar ? newBar(`${w} x${n}`) : undefined;
      bar?.start(total, 0, { info: 'warm-up' });
      const r = await runLevel(setup, w, n, o.warmup, o.seconds, (t) =>
        bar?.update(Math.min(total, Math.round(t.elapsed * 10)), { info: t.phase === 'warmup' ? 'warm-up' : `${t.ops} ops  ${Math.round(t.rate)} ops/s${t.errors ? `  ${t.errors} errors` : ''}` }),
      );
      bar?.update(total);
      bar?.stop();
      results.push(r);
      // On a terminal, each finished run stays visible above the next bar (stderr: it is progress).
      if (bar) process.stderr.write(`${cells(r).map((c, i) => `${HEADER[i]} ${c}`).join('  ')}\n`);
    }
  }
  if (o.json) {
    printJson({
      endpoints: setup.endpoints,
      keys: o.keys,
      valueBytes: o.valueSize,
      seconds: o.seconds,
      warmupSeconds: o.warmup,
      batching: o.batching,
      results: results.map((r) => ({
        workload: r.workload,
        concurrency: r.concurrency,
        ops: r.ops,
        seconds: r.seconds,
        opsPerSec: Math.round(r.ops / r.seconds),
        errors: r.errors,
        ...(r.firstError !== undefined ? { firstError: messageOf(r.firstError) } : {}),
        latencyMs: latencyMs(r.hist),
      })),
    });
  } else {
    printLines(table(HEADER, results.map(cells)));
    for (const r of results) if (r.firstError !== undefined) process.stderr.write(`raftkv: ${r.workload} x${r.concurrency}: ${r.errors} errors, first: ${messageOf(r.firstError)}\n`);
  }
  // Nothing at all succeeded: fail with the first error's exit code (3 for an unreachable cluster).
  if (results.every((r) => r.ops === 0)) {
    const first = results.find((r) => r.firstError !== undefined)?.firstError;
    if (first !== undefined) throw first;
  }
}

function newBar(label: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    { format: `${label.padEnd(10)} {bar} {percentage}% | {info}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
}

const HEADER = ['workload', 'callers', 'ops/s', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors'];

function cells(r: LevelResult): string[] {
  const l = latencyMs(r.hist);
  const f = (v: number): string => v.toFixed(2);
  return [r.workload, String(r.concurrency), String(Math.round(r.ops / r.seconds)), f(l.mean), f(l.p50), f(l.p90), f(l.p99), f(l.p999), f(l.max), String(r.errors)];
}
