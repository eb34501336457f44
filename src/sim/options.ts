// Options of one simulated run, and the per-seed "profile": the knobs (fault rates, message size
// limits, snapshot frequency...) drawn from the seed so that different seeds explore different
// regimes. A run is a pure function of (seed, nodes, options).

import type { NodeId } from '../raft/core/types.js';
import { chance, intIn, pick, stream } from './rng.js';

export type FaultMode = 'all' | 'none';
/** 'auto': a quarter of faulty runs are 'leader-churn', the rest 'mixed' (see drawProfile). */
export type Style = 'auto' | 'mixed' | 'leader-churn';

export interface SimOptions {
  readonly seed: number;
  /** Size of the initial cluster (1..7). */
  readonly nodes: number;
  readonly faults: FaultMode;
  readonly style: Style;
  /** Virtual ms of fault injection before everything is healed. */
  readonly faultMs: number;
  /** Virtual ms after the heal within which the cluster must converge (liveness). */
  readonly settleMs: number;
  /** Passed to every node: the deliberately broken commit rule (the simulator must catch it). */
  readonly unsafeCommitPreviousTerm: boolean;
  /** Events kept for the failure report. */
  readonly traceSize: number;
  /** Overrides of the per-seed profile (demo and tests; not part of the replay command). */
  readonly profile?: Partial<Profile>;
  /** Test hook: node `node` silently skips applying the first normal entry at index >= `index`. */
  readonly dropAppliedEntry?: { readonly node: NodeId; readonly index: number };
}

export const DEFAULT_OPTIONS: Omit<SimOptions, 'seed' | 'nodes'> = {
  faults: 'all',
  style: 'auto',
  faultMs: 3000,
  settleMs: 10000,
  unsafeCommitPreviousTerm: false,
  traceSize: 1500,
};

export function simOptions(p: Partial<SimOptions> & { seed: number; nodes: number }): SimOptions {
  return { ...DEFAULT_OPTIONS, ...p };
}

/** The exact command that replays a run. */
export function replayCommand(o: SimOptions): string {
  let s = `npm run sim -- --seed ${o.seed} --nodes ${o.nodes} --faults ${o.faults}`;
  if (o.style !== DEFAULT_OPTIONS.style) s += ` --style ${o.style}`;
  if (o.faultMs !== DEFAULT_OPTIONS.faultMs) s += ` --fault-ms ${o.faultMs}`;
  if (o.settleMs !== DEFAULT_OPTIONS.settleMs) s += ` --settle-ms ${o.settleMs}`;
  if (o.unsafeCommitPreviousTerm) s += ' --unsafe-commit-previous-term';
  if (o.profile) s += ` (with profile overrides ${JSON.stringify(o.profile)})`;
  if (o.dropAppliedEntry) s += ` (test hook dropAppliedEntry=${o.dropAppliedEntry.node}@${o.dropAppliedEntry.index})`;
  return s;
}

/** Knobs of one run, drawn from the seed. */
export interface Profile {
  /** 'mixed': every kind of fault; 'leader-churn': concentrated on leader changes. */
  readonly style: 'mixed' | 'leader-churn';
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly maxUncommittedEntriesBytes: number;
  /** Network: one-way latency range (ms). */
  readonly netMinMs: number;
  readonly netMaxMs: number;
  /** Baseline fault rates during the fault phase (bursts come on top). */
  readonly lossRate: number;
  readonly dupRate: number;
  /** Probability that a message takes a long detour (reordering). */
  readonly reorderRate: number;
  readonly reorderMaxMs: number;
  /**
   * Whether lost messages go unnoticed (datagram-like network, the Raft paper's model). When
   * false, a lost message stands for a broken connection: both ends' transports notice and
   * report the peer unreachable to their node.
   */
  readonly silentLoss: boolean;
  /** Disk: normal write latency range and the chance of a slow (stalled) write. */
  readonly diskMinMs: number;
  readonly diskMaxMs: number;
  readonly slowDiskRate: number;
  /** A crash during a write may keep a prefix of that write's entries. */
  readonly tornWrites: boolean;
  /** Snapshot when this many entries were applied since the last snapshot (Infinity: never). */
  readonly snapshotEvery: number;
  /** Entries kept in the log below the snapshot index when compacting. */
  readonly compactMargin: number;
  /** Membership changes and leader transfers during the fault phase. */
  readonly membership: boolean;
  readonly transfers: boolean;
  /** Chance that a just-elected leader is crashed at once (targeted fault). */
  readonly crashNewLeaderRate: number;
  /** Chance that a leader is crashed right after applying newly committed entries. */
  readonly crashCommittingLeaderRate: number;
  /** Mean virtual ms between nemesis actions. */
  readonly nemesisEveryMs: number;
  /** Clients and their pace. */
  readonly clients: number;
  readonly thinkMs: number;
  readonly readRatio: number;
  readonly leaseReads: boolean;
  readonly keys: number;
  /** Whether a restarting node passes `applied` (its snapshot index) or relies on the default. */
  readonly passApplied: boolean;
  /**
   * When a removed node is shut down: soon after its removal is committed ('prompt'), or only
   * once every remaining member has applied the removal ('after-catch-up').
   */
  readonly decommission: 'prompt' | 'after-catch-up';
}

export function drawProfile(o: SimOptions): Profile {
  return { ...drawBaseProfile(o), ...o.profile };
}

function drawBaseProfile(o: SimOptions): Profile {
  const r = stream(o.seed, 'profile', o.nodes);
  const faults = o.faults === 'all';
  const checkQuorum = !chance(r, 0.2);
  const base: Profile = {
    style: 'mixed',
    tickMs: 10,
    electionTicks: 10,
    heartbeatTicks: pick(r, [1, 1, 1, 2, 3]),
    preVote: !chance(r, 0.2),
    checkQuorum,
    maxSizePerMsgBytes: pick(r, [1, 1, 64, 256, 4096, 1 << 20]),
    maxInflightMsgs: pick(r, [1, 2, 8, 256]),
    maxUncommittedEntriesBytes: pick(r, [4096, 1 << 20]),
    netMinMs: 0.5,
    netMaxMs: pick(r, [2, 5, 10]),
    lossRate: faults ? pick(r, [0, 0.01, 0.03, 0.1]) : 0,
    dupRate: faults ? pick(r, [0, 0.01, 0.05]) : 0,
    reorderRate: faults ? pick(r, [0, 0.02, 0.1]) : 0,
    reorderMaxMs: pick(r, [20, 60, 150]),
    silentLoss: chance(r, 0.5),
    diskMinMs: 0.05,
    diskMaxMs: pick(r, [0.5, 2, 6]),
    slowDiskRate: faults ? pick(r, [0, 0.01, 0.05]) : 0,
    tornWrites: faults && chance(r, 0.5),
    snapshotEvery: pick(r, [8, 20, 50, 150, Infinity]),
    compactMargin: pick(r, [0, 0, 1, 3, 10]),
    membership: faults && chance(r, 0.7),
    transfers: faults && chance(r, 0.7),
    nemesisEveryMs: pick(r, [60, 120, 250]),
    crashNewLeaderRate: faults ? pick(r, [0, 0.1, 0.3, 0.5]) : 0,
    crashCommittingLeaderRate: faults ? pick(r, [0, 0.05, 0.15, 0.3]) : 0,
    clients: intIn(r, 2, 5),
    thinkMs: pick(r, [2, 10, 30]),
    readRatio: pick(r, [0.1, 0.3, 0.5]),
    leaseReads: checkQuorum && chance(r, 0.5),
    keys: pick(r, [1, 3, 8]),
    passApplied: chance(r, 0.5),
    decommission: chance(r, 0.5) ? 'prompt' : 'after-catch-up',
  };
  // A quarter of the faulty runs concentrate on leader churn with partial replication (small
  // messages, leaders cut off right after being elected or committing): the Figure 8 regime.
  const churn = chance(r, 0.25);
  if (!faults || o.style === 'mixed' || (o.style === 'auto' && !churn)) return base;
  return {
    ...base,
    style: 'leader-churn',
    maxSizePerMsgBytes: 1,
    maxInflightMsgs: pick(r, [1, 2, 4]),
    crashNewLeaderRate: pick(r, [0.3, 0.5, 0.7]),
    crashCommittingLeaderRate: pick(r, [0.2, 0.3]),
    membership: false,
    transfers: false,
    lossRate: Math.min(base.lossRate, 0.03),
    nemesisEveryMs: pick(r, [250, 400]),
    // Shorter election timeouts: more elections, so more chances for the bad interleavings.
    electionTicks: 5,
  };
}

export function describeProfile(p: Profile): string {
  return [
    `style=${p.style}`,
    `preVote=${p.preVote} checkQuorum=${p.checkQuorum} hb=${p.heartbeatTicks}`,
    `maxMsg=${p.maxSizePerMsgBytes}B inflight=${p.maxInflightMsgs}`,
    `net=${p.netMinMs}-${p.netMaxMs}ms loss=${p.lossRate}${p.silentLoss ? '(silent)' : ''} dup=${p.dupRate} reorder=${p.reorderRate}`,
    `disk=${p.diskMinMs}-${p.diskMaxMs}ms slow=${p.slowDiskRate} torn=${p.tornWrites}`,
    `snapEvery=${p.snapshotEvery} margin=${p.compactMargin}`,
    `membership=${p.membership} transfers=${p.transfers} nemesis~${p.nemesisEveryMs}ms targeted=${p.crashNewLeaderRate}/${p.crashCommittingLeaderRate}`,
    `clients=${p.clients} think=${p.thinkMs}ms reads=${p.readRatio} lease=${p.leaseReads} keys=${p.keys}`,
    `passApplied=${p.passApplied} decommission=${p.decommission}`,
  ].join(' ');
}
