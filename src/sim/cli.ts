// The simulator's command line:
//
//   npm run sim -- --seeds N [--seed S] [--nodes K] [--faults all|none] [--verbose]
//                  [--style auto|mixed|leader-churn] [--fault-ms MS] [--settle-ms MS]
//                  [--unsafe-commit-previous-term] [--keep-going]
//
// Runs seeds S, S+1, ..., S+N-1 (S defaults to 1; with --seed and no --seeds, just that seed).
// Cluster sizes cycle through 1, 3, 5 unless --nodes is given. Stops at the first violation
// (unless --keep-going), prints the report with its replay command, writes it under
// .sim-failures/ and exits with status 1.

import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS, type FaultMode, type Style, describeProfile, simOptions } from './options.js';
import { type RunResult, formatFailure, runSim } from './run.js';
import { formatEvent } from './trace.js';

const USAGE = `usage: npm run sim -- [--seeds N] [--seed S] [--nodes K] [--faults all|none] [--verbose]
                      [--style auto|mixed|leader-churn] [--fault-ms MS] [--settle-ms MS]
                      [--unsafe-commit-previous-term] [--keep-going]`;

function int(name: string, v: string | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min} (got ${v})\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function main(): void {
  let args;
  try {
    args = parseArgs({
      options: {
        seeds: { type: 'string' },
        seed: { type: 'string' },
        nodes: { type: 'string' },
        faults: { type: 'string', default: 'all' },
        style: { type: 'string', default: 'auto' },
        verbose: { type: 'boolean', short: 'v', default: false },
        'fault-ms': { type: 'string' },
        'settle-ms': { type: 'string' },
        'unsafe-commit-previous-term': { type: 'boolean', default: false },
        'keep-going': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const faults = args.faults as FaultMode;
  if (faults !== 'all' && faults !== 'none') {
    console.error(`--faults must be all or none\n${USAGE}`);
    process.exit(2);
  }
  const style = args.style as Style;
  if (style !== 'auto' && style !== 'mixed' && style !== 'leader-churn') {
    console.error(`--style must be auto, mixed or leader-churn\n${USAGE}`);
    process.exit(2);
  }
  const first = int('seed', args.seed, 1, 0);
  const count = int('seeds', args.seeds, args.seed !== undefined ? 1 : 100, 1);
  const fixedNodes = args.nodes !== undefined ? int('nodes', args.nodes, 3, 1) : undefined;
  if (fixedNodes !== undefined && fixedNodes > 7) {
    console.error('--nodes must be at most 7');
    process.exit(2);
  }
  const faultMs = int('fault-ms', args['fault-ms'], DEFAULT_OPTIONS.faultMs, 0);
  const settleMs = int('settle-ms', args['settle-ms'], DEFAULT_OPTIONS.settleMs, 100);
  const verbose = args.verbose === true;
  const sizes = [1, 3, 5];

  const started = process.hrtime.bigint();
  let failures = 0;
  let events = 0;
  let virtualMs = 0;
  let lastReport = Date.now();
  const bySize = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const seed = first + i;
    const nodes = fixedNodes ?? sizes[seed % sizes.length]!;
    const options = simOptions({
      seed,
      nodes,
      faults,
      style,
      faultMs,
      settleMs,
      unsafeCommitPreviousTerm: args['unsafe-commit-previous-term'] === true,
    });
    let r: RunResult;
    if (verbose) {
      console.log(`--- seed ${seed}, ${nodes} nodes`);
      r = runSim(options, (e) => console.log(formatEvent(e)));
    } else {
      r = runSim(options);
    }
    events += r.stats.events;
    virtualMs += r.stats.virtualMs;
    bySize.set(nodes, (bySize.get(nodes) ?? 0) + 1);
    if (verbose || count === 1) {
      const s = r.stats;
      console.log(
        `seed ${seed} (${nodes} nodes): ${r.ok ? 'ok' : 'VIOLATION'} — ${s.virtualMs.toFixed(0)} virtual ms, ${s.events} events, ` +
          `${s.messages} messages, ${s.leaders} leaders, ${s.acked}/${s.writes} writes acked, ${s.readsChecked} reads checked, ` +
          `${s.crashes} crashes, ${s.snapshots} snapshots, ${s.installs} installs, ${s.confChanges} membership changes, ` +
          `${s.tornWrites} torn writes; final: ${s.finalNodes} members, commit ${s.finalCommit}; trace hash ${r.traceHash}`,
      );
      console.log(`  profile: ${describeProfile(r.profile)}`);
    }
    if (!r.ok) {
      failures++;
      const report = formatFailure(r);
      console.log(`\n${report}\n`);
      try {
        mkdirSync('.sim-failures', { recursive: true });
        const file = `.sim-failures/seed-${seed}-n${nodes}.txt`;
        writeFileSync(file, report + '\n');
        console.log(`(report written to ${file})`);
      } catch {
        // best effort
      }
      if (!args['keep-going']) break;
    }
    if (!verbose && count > 1 && Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(`  ${i + 1}/${count} seeds, ${failures} failing, ${((i + 1) / secs).toFixed(1)} seeds/s`);
    }
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const ran = [...bySize.values()].reduce((a, b) => a + b, 0);
  const sizesText = [...bySize].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${v}x${k}`).join(' ');
  console.log(
    `${ran} seeds (${sizesText} nodes) in ${secs.toFixed(2)} s: ${(ran / secs).toFixed(1)} seeds/s, ` +
      `${((events / secs) / 1000).toFixed(0)}k events/s, ${(virtualMs / 1000).toFixed(0)} virtual s; ${failures} violation${failures === 1 ? '' : 's'}`,
  );
  process.exitCode = failures > 0 ? 1 : 0;
}

main();
