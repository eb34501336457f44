// Benchmark reporting: HDR histograms of latency, a printed table, and a row appended to
// BENCHMARKS.md with the command, date and machine.

import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import * as hdr from 'hdr-histogram-js';

export function histogram(): hdr.Histogram {
  // Microseconds, 1 µs .. 60 s, 3 significant digits.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * A closed loop: `concurrency` callers each run `op` back to back; after `warmupSec` the latency of
 * every call (µs) and its errors are counted for `seconds`. Returns when every caller stopped.
 */
export async function closedLoop(o: { concurrency: number; warmupSec: number; seconds: number; op: () => Promise<unknown> }): Promise<{ ops: number; errors: number; seconds: number; hist: hdr.Histogram }> {
  const hist = histogram();
  let ops = 0;
  let errors = 0;
  let measuring = false;
  let stop = false;
  const loops = Array.from({ length: o.concurrency }, async () => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      try {
        await o.op();
        if (measuring) {
          hist.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
          ops++;
        }
      } catch {
        if (measuring) errors++;
      }
    }
  });
  await new Promise((r) => setTimeout(r, o.warmupSec * 1000));
  measuring = true;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  measuring = false;
  const seconds = (Date.now() - t0) / 1000;
  stop = true;
  await Promise.all(loops);
  return { ops, errors, seconds, hist };
}

export interface Row {
  readonly workload: string;
  readonly concurrency: number;
  readonly ops: number;
  readonly seconds: number;
  readonly hist: hdr.Histogram;
  readonly errors: number;
}

export function machine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function format(r: Row): string[] {
  const ms = (p: number): string => (r.hist.getValueAtPercentile(p) / 1000).toFixed(2);
  return [
    r.workload,
    String(r.concurrency),
    Math.round(r.ops / r.seconds).toLocaleString('en-US'),
    (r.hist.mean / 1000).toFixed(2),
    ms(50),
    ms(99),
    ms(99.9),
    String(r.errors),
  ];
}

export const HEADER = ['workload', 'callers', 'ops/s', 'mean ms', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors'];

export function printTable(rows: Row[]): void {
  const lines = [HEADER, ...rows.map(format)];
  const widths = HEADER.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const l of lines) console.log(l.map((c, i) => c.padStart(widths[i]!)).join('  '));
}

/** Appends a section with the rows to BENCHMARKS.md (created with a title if missing). */
export function appendToBenchmarks(title: string, command: string, setup: string, rows: Row[]): void {
  const file = new URL('../../BENCHMARKS.md', import.meta.url);
  if (!existsSync(file)) writeFileSync(file, '# raftkv benchmarks\n\nEach section gives the command that measured it, the date and the setup.\n');
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const body = [
    '',
    `## ${title} (${date})`,
    '',
    `Command: \`${command}\``,
    '',
    `Setup: ${setup}. Machine: ${machine()}.`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${format(r).join(' | ')} |`),
    '',
  ].join('\n');
  appendFileSync(file, body);
}
