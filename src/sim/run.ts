// One seeded run of the simulator, start to finish: a fault phase (clients, nemesis), a heal,
// a liveness phase (the cluster must converge), final reads and final checks. The result says
// whether a violation was found, with everything needed to reproduce and understand it.

import { SimViolation } from './checker.js';
import { Cluster } from './cluster.js';
import { hex } from './hash.js';
import { type Profile, type SimOptions, describeProfile, replayCommand } from './options.js';
import type { TraceListener } from './trace.js';

export interface RunStats {
  readonly events: number;
  readonly virtualMs: number;
  readonly messages: number;
  readonly leaders: number;
  readonly acked: number;
  readonly writes: number;
  readonly readsChecked: number;
  readonly crashes: number;
  readonly snapshots: number;
  readonly installs: number;
  readonly confChanges: number;
  readonly tornWrites: number;
  readonly finalNodes: number;
  readonly finalCommit: number;
}

export interface RunResult {
  readonly options: SimOptions;
  readonly profile: Profile;
  readonly ok: boolean;
  readonly violation?: SimViolation;
  /** Hash over every trace event: equal for two runs of the same (seed, nodes, options). */
  readonly traceHash: string;
  readonly stats: RunStats;
  readonly replay: string;
  /** The last events before the violation (empty when ok). */
  readonly trace: string;
  /** State of every node when the run ended. */
  readonly state: string;
}

export const TRACE_LINES = 60;

export function runSim(options: SimOptions, listener?: TraceListener): RunResult {
  const c = new Cluster(options);
  if (listener) c.trace.listen(listener);
  let violation: SimViolation | undefined;
  try {
    c.trace.add('sim', 'begin', `seed ${options.seed}, ${options.nodes} nodes, faults ${options.faults}: ${describeProfile(c.profile)}`);
    c.startAll();
    c.workload.start();
    if (options.faults === 'all') c.nemesis.start();
    c.runUntil(options.faultMs);
    if (options.faults === 'all') c.nemesis.heal();
    c.settle(options.faultMs + options.settleMs);
    c.finalReads(c.now + 3000);
    c.finalChecks();
    c.trace.add('sim', 'end', `converged at ${c.now.toFixed(2)}ms; all checks passed`);
  } catch (e) {
    if (e instanceof SimViolation) violation = e;
    else violation = new SimViolation('core-error', (e as Error).stack ?? String(e));
  }
  const leader = c.leader();
  const nodes = [...c.nodes.values()];
  const sum = (f: (n: (typeof nodes)[number]) => number): number => nodes.reduce((a, n) => a + f(n), 0);
  const stats: RunStats = {
    events: c.queue.processed,
    virtualMs: c.now,
    messages: c.net.stats.sent,
    leaders: c.checker.counts.leaders,
    acked: c.checker.counts.acked,
    writes: c.workload.stats.writes,
    readsChecked: c.checker.counts.readsChecked,
    crashes: sum((n) => n.stats.crashes),
    snapshots: sum((n) => n.stats.snapshots),
    installs: sum((n) => n.stats.installs),
    confChanges: c.stats.confChangesApplied,
    tornWrites: sum((n) => n.stats.torn),
    finalNodes: c.memberNodes().length,
    finalCommit: leader?.up ? leader.raw!.status().commit : 0,
  };
  return {
    options,
    profile: c.profile,
    ok: violation === undefined,
    ...(violation ? { violation } : {}),
    traceHash: hex(c.trace.hash),
    stats,
    replay: replayCommand(options),
    trace: violation ? c.trace.format(TRACE_LINES) : '',
    state: c.describe(),
  };
}

/** The report printed for a failed run. */
export function formatFailure(r: RunResult): string {
  const o = r.options;
  return [
    `VIOLATION in seed ${o.seed} (${o.nodes} nodes, faults ${o.faults}${o.unsafeCommitPreviousTerm ? ', UNSAFE commit rule' : ''})`,
    `replay: ${r.replay}`,
    `profile: ${describeProfile(r.profile)}`,
    '',
    r.violation?.message ?? '(none)',
    '',
    `last ${TRACE_LINES} events:`,
    r.trace,
    '',
    'state at the end:',
    r.state,
  ].join('\n');
}
