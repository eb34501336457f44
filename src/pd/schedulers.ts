// The placement driver's schedulers: pure functions from what PD knows (ClusterView) to the
// operators it should start, plus the bookkeeping that moves a running operator along as region
// heartbeats show its steps' effects. No clock, no randomness, no I/O: the same view and config
// always give the same operators, in the same order.
//
// One round (runSchedulers) runs, in this order:
//   1. replace-down   a replica on a down (or tombstoned) store moves to a healthy store; a region
//                     with fewer voters than cfg.replicas gets one more; a stray learner or a voter
//                     beyond cfg.replicas (an abandoned operator's) is removed (all: enabled.replaceDown)
//   2. decommission   every replica on an 'offline' store moves away (always on: an admin asked)
//   3. split          regions over splitMaxKeys / splitMaxBytes are split by their leader
//   4. balance-replica region counts of healthy stores are evened out to within the tolerance
//   5. balance-leader  leader counts of healthy stores are evened out to within the tolerance
//
// invariant: at most one operator per region, counting the ones already running (view.operators)
// invariant: a membership move never lowers the voter count: the new replica is added as a learner
//            and promoted before the old one is removed, and a leader hands over before removal
// invariant: running move operators (replace-down, decommission, balance-replica), old and new,
//            never exceed cfg.maxConcurrentMoves after a round (a round adds none once at the limit)

import type { RegionMeta } from '../kv/region.js';
import type { ClusterView, Operator, OperatorKind, OperatorStep, RegionView, SchedulerConfig, StoreView } from './cluster-view.js';

/** Operator kinds that copy a replica's data to another store, limited by maxConcurrentMoves. */
const MOVE_KINDS: ReadonlySet<OperatorKind> = new Set<OperatorKind>(['balance-replica', 'replace-down', 'decommission']);

// ---------------------------------------------------------------------------------------------
// Stores

/** Silent for longer than storeDownAfterMs (a store never heard from is not silent: PD may just have started). */
function isSilent(store: StoreView, nowMs: number, cfg: SchedulerConfig): boolean {
  return store.lastHeartbeatMs > 0 && nowMs - store.lastHeartbeatMs > cfg.storeDownAfterMs;
}

/** An 'up' store that stopped heartbeating: its replicas are to be replaced. */
export function isStoreDown(store: StoreView, nowMs: number, cfg: SchedulerConfig): boolean {
  return store.state === 'up' && isSilent(store, nowMs, cfg);
}

/** A store that may receive replicas and leaders: up, heard from, and not down. */
function isHealthy(store: StoreView, nowMs: number, cfg: SchedulerConfig): boolean {
  return store.state === 'up' && store.lastHeartbeatMs > 0 && !isStoreDown(store, nowMs, cfg);
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Operators in progress

export function currentStep(op: Operator): OperatorStep | undefined {
  return op.steps[op.stepIndex];
}

/** The step's effect shows in the region's last heartbeat (split steps are judged by the epoch, apart). */
function stepVisible(step: OperatorStep, region: RegionView): boolean {
  const { voters, learners } = region.meta;
  switch (step.kind) {
    case 'addLearner':
      return learners.includes(step.store) || voters.includes(step.store);
    case 'promote':
      return voters.includes(step.store);
    case 'transferLeader':
      return region.leader === step.to;
    case 'removePeer':
      return !voters.includes(step.store) && !learners.includes(step.store);
    case 'split':
      return false;
  }
}

/**
 * Moves op.stepIndex past every step whose effect the region's latest heartbeat shows, in order
 * (it stops at the first step not yet visible). A split step is done once the region's version
 * rose above op.regionVersion, and that ends the whole operator. A version rise under any other
 * step makes the operator obsolete: its plan was for a region that no longer exists as such, and
 * the next round decides again.
 */
export function advanceOperator(op: Operator, region: RegionView): 'done' | 'running' | 'obsolete' {
  const split = region.meta.epoch.version > op.regionVersion;
  while (op.stepIndex < op.steps.length) {
    const step = op.steps[op.stepIndex]!;
    if (step.kind === 'split') {
      if (split) op.stepIndex = op.steps.length;
      break;
    }
    if (!stepVisible(step, region)) break;
    op.stepIndex++;
  }
  if (op.stepIndex >= op.steps.length) return 'done';
  return split ? 'obsolete' : 'running';
}

// ---------------------------------------------------------------------------------------------
// One scheduling round

/** Region and leader counts per store, adjusted for what running and new operators will change. */
interface Load {
  readonly regions: Map<string, number>;
  readonly leaders: Map<string, number>;
}

interface Round {
  readonly view: ClusterView;
  readonly cfg: SchedulerConfig;
  /** Stores and regions sorted by id (determinism: every scan goes in this order). */
  readonly stores: readonly StoreView[];
  readonly regions: readonly RegionView[];
  readonly load: Load;
  /** Regions with an operator, running or created this round. */
  readonly busy: Set<string>;
  /** Stores that already gave up a leader in this round (at most one balance-leader each). */
  readonly leaderSources: Set<string>;
  readonly out: Operator[];
  /** Move operators running plus created this round. */
  moves: number;
}

function bump(m: Map<string, number>, id: string, by: number): void {
  m.set(id, (m.get(id) ?? 0) + by);
}

const regionsOf = (round: Round, store: string): number => round.load.regions.get(store) ?? 0;
const leadersOf = (round: Round, store: string): number => round.load.leaders.get(store) ?? 0;

/** Adds to the load what steps[from..] will change once carried out on the region. */
function applyEffects(load: Load, steps: readonly OperatorStep[], from: number, region: RegionView): void {
  let leader = region.leader;
  for (const step of steps.slice(from)) {
    switch (step.kind) {
      case 'addLearner':
        bump(load.regions, step.store, 1);
        break;
      case 'removePeer':
        bump(load.regions, step.store, -1);
        break;
      case 'transferLeader':
        if (leader !== '') bump(load.leaders, leader, -1);
        bump(load.leaders, step.to, 1);
        leader = step.to;
        break;
      case 'split': // the new region lives on the same stores, led by the same leader
        for (const p of peersOf(region.meta)) bump(load.regions, p, 1);
        if (leader !== '') bump(load.leaders, leader, 1);
        break;
      case 'promote':
        break;
    }
  }
}

function newRound(view: ClusterView, cfg: SchedulerConfig): Round {
  const load: Load = { regions: new Map(), leaders: new Map() };
  for (const s of view.stores.values()) {
    load.regions.set(s.id, s.regionCount);
    load.leaders.set(s.id, s.leaderCount);
  }
  let moves = 0;
  for (const op of view.operators.values()) {
    if (MOVE_KINDS.has(op.kind)) moves++;
    const region = view.regions.get(op.regionId);
    if (region !== undefined) applyEffects(load, op.steps, op.stepIndex, region);
  }
  return {
    view,
    cfg,
    stores: [...view.stores.values()].sort((a, b) => byId(a.id, b.id)),
    regions: [...view.regions.values()].sort((a, b) => byId(a.meta.id, b.meta.id)),
    load,
    busy: new Set(view.operators.keys()),
    leaderSources: new Set(),
    out: [],
    moves,
  };
}

function emit(round: Round, region: RegionView, kind: OperatorKind, steps: OperatorStep[], reason: string): void {
  const op: Operator = {
    regionId: region.meta.id,
    kind,
    reason,
    steps,
    stepIndex: 0,
    regionVersion: region.meta.epoch.version,
    createdMs: round.view.nowMs,
  };
  round.out.push(op);
  round.busy.add(op.regionId);
  if (MOVE_KINDS.has(kind)) round.moves++;
  applyEffects(round.load, steps, 0, region);
}

const movesLeft = (round: Round): boolean => round.moves < round.cfg.maxConcurrentMoves;

function peersOf(meta: RegionMeta): string[] {
  return [...meta.voters, ...meta.learners];
}

function store(round: Round, id: string): StoreView | undefined {
  return round.view.stores.get(id);
}

/** The replica is gone for good or for now: its store is down or tombstoned (unknown stores are not judged). */
function isLost(round: Round, id: string): boolean {
  const s = store(round, id);
  return s !== undefined && (s.state === 'tombstone' || isStoreDown(s, round.view.nowMs, round.cfg));
}

function healthy(round: Round, id: string): boolean {
  const s = store(round, id);
  return s !== undefined && isHealthy(s, round.view.nowMs, round.cfg);
}

/**
 * PD can act on the region: it has heard from it, knows its leader, and the leader's store is
 * serving (up, or offline and still being emptied) and not silent. Regions with an operator are
 * left alone.
 */
function schedulable(round: Round, r: RegionView): boolean {
  if (round.busy.has(r.meta.id)) return false;
  if (r.lastHeartbeatMs <= 0 || r.leader === '' || !r.meta.voters.includes(r.leader)) return false;
  const s = store(round, r.leader);
  return s !== undefined && (s.state === 'up' || s.state === 'offline') && !isSilent(s, round.view.nowMs, round.cfg);
}

/** Its live voters are a majority of its voters, so membership changes can still commit. */
function hasQuorum(round: Round, meta: RegionMeta): boolean {
  const live = meta.voters.filter((v) => !isLost(round, v)).length;
  return live * 2 > meta.voters.length;
}

/** The healthy store not in the region holding the fewest regions (ties: lowest id). */
function pickTarget(round: Round, meta: RegionMeta): string | undefined {
  const peers = new Set(peersOf(meta));
  let best: string | undefined;
  for (const s of round.stores) {
    if (peers.has(s.id) || !isHealthy(s, round.view.nowMs, round.cfg)) continue;
    if (best === undefined || regionsOf(round, s.id) < regionsOf(round, best)) best = s.id;
  }
  return best;
}

/**
 * Steps moving the region's replica on `from` to `to` (a store outside the region):
 * addLearner(to), promote(to) when `from` is a voter, transferLeader(to) when `from` leads,
 * removePeer(from).
 * invariant: the voter count never drops below its starting value, and the leader is never removed
 * (a leader is a voter, so `to` has been promoted before it takes over).
 */
function moveSteps(region: RegionView, from: string, to: string): OperatorStep[] {
  const steps: OperatorStep[] = [{ kind: 'addLearner', store: to }];
  if (region.meta.voters.includes(from)) steps.push({ kind: 'promote', store: to });
  if (region.leader === from) steps.push({ kind: 'transferLeader', to });
  steps.push({ kind: 'removePeer', store: from });
  return steps;
}

function role(meta: RegionMeta, id: string): string {
  return meta.voters.includes(id) ? 'voter' : 'learner';
}

// ---------------------------------------------------------------------------------------------
// 1. replace-down (and under-replicated regions)

function describeLost(round: Round, id: string): string {
  const s = store(round, id)!;
  if (s.state === 'tombstone') return `store ${id} is tombstoned`;
  const silentS = Math.ceil((round.view.nowMs - s.lastHeartbeatMs) / 1000);
  return `store ${id} is down (silent ${silentS}s, down after ${round.cfg.storeDownAfterMs / 1000}s)`;
}

function replaceDown(round: Round): void {
  if (!round.cfg.enabled.replaceDown) return;
  for (const r of round.regions) {
    if (!movesLeft(round)) return;
    if (!schedulable(round, r) || !hasQuorum(round, r.meta)) continue;
    const meta = r.meta;
    // Voters first: they carry the quorum.
    const lost = [...[...meta.voters].sort(byId), ...[...meta.learners].sort(byId)].filter((p) => isLost(round, p));
    if (lost.length > 0) {
      const from = lost[0]!;
      const to = pickTarget(round, meta);
      if (to === undefined) continue;
      const live = meta.voters.filter((v) => !isLost(round, v)).length;
      emit(
        round,
        r,
        'replace-down',
        moveSteps(r, from, to),
        `${describeLost(round, from)}: region ${meta.id} keeps ${live} of ${meta.voters.length} voters; ` +
          `move its ${role(meta, from)} to ${to} (holds ${regionsOf(round, to)} regions)`,
      );
    } else if (meta.voters.length < round.cfg.replicas) {
      addVoter(round, r);
    } else {
      trimExtra(round, r);
    }
  }
}

/**
 * Replicas beyond what the region wants, left when an operator was abandoned half way (it timed
 * out, the region split under it, or PD's leader changed): a learner nobody is promoting, or a
 * voter more than cfg.replicas. The one on the store holding the most regions goes (a leader
 * hands over first).
 */
function trimExtra(round: Round, r: RegionView): void {
  const meta = r.meta;
  // The fullest store's replica goes; a follower before the leader (no handover needed).
  const most = (ids: readonly string[]): string | undefined =>
    [...ids].sort((a, b) => Number(a === r.leader) - Number(b === r.leader) || regionsOf(round, b) - regionsOf(round, a) || byId(a, b))[0];
  const learner = most(meta.learners);
  if (learner !== undefined) {
    emit(round, r, 'balance-replica', [{ kind: 'removePeer', store: learner }], `region ${meta.id} has a learner on ${learner} that no operator is promoting: remove it`);
    return;
  }
  if (meta.voters.length <= round.cfg.replicas) return;
  const victim = most(meta.voters);
  if (victim === undefined) return;
  const steps: OperatorStep[] = [];
  if (victim === r.leader) {
    const to = meta.voters.filter((v) => v !== victim && healthy(round, v)).sort((a, b) => leadersOf(round, a) - leadersOf(round, b) || byId(a, b))[0];
    if (to === undefined) return;
    steps.push({ kind: 'transferLeader', to });
  }
  steps.push({ kind: 'removePeer', store: victim });
  emit(round, r, 'balance-replica', steps, `region ${meta.id} has ${meta.voters.length} voters, wants ${round.cfg.replicas}: remove the one on ${victim} (holds ${regionsOf(round, victim)} regions)`);
}

/** An under-replicated region gets one more voter: a healthy learner is promoted, else a new one is added. */
function addVoter(round: Round, r: RegionView): void {
  const meta = r.meta;
  const wants = `region ${meta.id} has ${meta.voters.length} voters, wants ${round.cfg.replicas}`;
  const learner = [...meta.learners].sort(byId).find((l) => healthy(round, l));
  if (learner !== undefined) {
    emit(round, r, 'balance-replica', [{ kind: 'promote', store: learner }], `${wants}: promote learner ${learner}`);
    return;
  }
  const to = pickTarget(round, meta);
  if (to === undefined) return;
  emit(
    round,
    r,
    'balance-replica',
    [
      { kind: 'addLearner', store: to },
      { kind: 'promote', store: to },
    ],
    `${wants}: add ${to} (holds ${regionsOf(round, to)} regions)`,
  );
}

// ---------------------------------------------------------------------------------------------
// 2. decommission

function decommission(round: Round): void {
  for (const s of round.stores) {
    if (s.state !== 'offline') continue;
    for (const r of round.regions) {
      if (!movesLeft(round)) return;
      if (!peersOf(r.meta).includes(s.id) || !schedulable(round, r) || !hasQuorum(round, r.meta)) continue;
      const to = pickTarget(round, r.meta);
      if (to === undefined) continue;
      emit(
        round,
        r,
        'decommission',
        moveSteps(r, s.id, to),
        `store ${s.id} is offline (${regionsOf(round, s.id)} regions left): move region ${r.meta.id}'s ` +
          `${role(r.meta, s.id)}${r.leader === s.id ? ' (its leader)' : ''} to ${to} (holds ${regionsOf(round, to)} regions)`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 3. split

function splitReason(r: RegionView, cfg: SchedulerConfig): string | undefined {
  if (cfg.splitMaxKeys > 0 && r.keys > cfg.splitMaxKeys) return `region ${r.meta.id} holds ${r.keys} keys (more than ${cfg.splitMaxKeys})`;
  if (cfg.splitMaxBytes > 0 && r.bytes > cfg.splitMaxBytes) return `region ${r.meta.id} holds ${r.bytes} bytes (more than ${cfg.splitMaxBytes})`;
  return undefined;
}

function split(round: Round): void {
  if (!round.cfg.enabled.split) return;
  for (const r of round.regions) {
    if (!schedulable(round, r)) continue;
    const reason = splitReason(r, round.cfg);
    if (reason !== undefined) emit(round, r, 'split', [{ kind: 'split', splitKey: null }], reason);
  }
}

// ---------------------------------------------------------------------------------------------
// 4 and 5. balance
//
// A move from store a to store b happens only while the spread (most - least over healthy stores)
// exceeds the tolerance, and only when count(a) - count(b) > max(tolerance, 1): every move lowers
// the sum of squared counts, so balancing ends and never swaps a difference of 1 back and forth.

function healthyStores(round: Round): StoreView[] {
  return round.stores.filter((s) => isHealthy(s, round.view.nowMs, round.cfg));
}

/** Stores by count, most first (ties: lowest id first). */
function mostFirst(stores: readonly StoreView[], count: (id: string) => number): StoreView[] {
  return [...stores].sort((a, b) => count(b.id) - count(a.id) || byId(a.id, b.id));
}

/** A region with a replica on `from` that can move to `to`: none of its replicas is down or still catching up. Followers go before leaders. */
function replicaToMove(round: Round, from: string, to: string): RegionView | undefined {
  let best: RegionView | undefined;
  for (const r of round.regions) {
    const peers = peersOf(r.meta);
    if (!peers.includes(from) || peers.includes(to) || !schedulable(round, r)) continue;
    if (r.downPeers.length > 0 || r.pendingPeers.length > 0 || peers.some((p) => isLost(round, p))) continue;
    if (r.leader !== from) return r;
    best ??= r;
  }
  return best;
}

function balanceReplicas(round: Round): void {
  if (!round.cfg.enabled.replicaBalance) return;
  const tol = round.cfg.replicaBalanceTolerance;
  const count = (id: string): number => regionsOf(round, id);
  const stores = healthyStores(round);
  while (movesLeft(round) && !tryReplicaMove(round, stores, count, tol));
}

/** Creates one balance-replica operator; true when there is nothing more to do. */
function tryReplicaMove(round: Round, stores: readonly StoreView[], count: (id: string) => number, tol: number): boolean {
  const sources = mostFirst(stores, count);
  const targets = [...stores].sort((a, b) => count(a.id) - count(b.id) || byId(a.id, b.id));
  if (targets.length < 2) return true;
  const least = count(targets[0]!.id);
  for (const from of sources) {
    if (count(from.id) - least <= tol) return true;
    for (const to of targets) {
      if (count(from.id) - count(to.id) <= Math.max(tol, 1)) break;
      const r = replicaToMove(round, from.id, to.id);
      if (r === undefined) continue;
      emit(
        round,
        r,
        'balance-replica',
        moveSteps(r, from.id, to.id),
        `store ${from.id} holds ${count(from.id)} regions, ${to.id} holds ${count(to.id)} (tolerance ${tol}): ` +
          `move region ${r.meta.id}'s ${role(r.meta, from.id)} from ${from.id} to ${to.id}`,
      );
      return false;
    }
  }
  return true;
}

function balanceLeaders(round: Round): void {
  if (!round.cfg.enabled.leaderBalance) return;
  const tol = round.cfg.leaderBalanceTolerance;
  const count = (id: string): number => leadersOf(round, id);
  const stores = healthyStores(round);
  while (!tryLeaderMove(round, stores, count, tol));
}

/**
 * Creates one balance-leader operator from the most loaded store that has not given up a leader
 * this round; true when there is nothing more to do. The new leader is, among the region's healthy
 * voters, the one leading the fewest regions; of the source's regions, the one whose best voter
 * leads the fewest wins (ties: lowest region id).
 */
function tryLeaderMove(round: Round, stores: readonly StoreView[], count: (id: string) => number, tol: number): boolean {
  if (stores.length < 2) return true;
  const least = Math.min(...stores.map((s) => count(s.id)));
  for (const from of mostFirst(stores, count)) {
    if (count(from.id) - least <= tol) return true;
    if (round.leaderSources.has(from.id)) continue;
    let best: { r: RegionView; to: string } | undefined;
    for (const r of round.regions) {
      if (r.leader !== from.id || !schedulable(round, r)) continue;
      const to = [...r.meta.voters]
        // Never to a replica the leader cannot reach or that lags (down or pending peers).
        .filter((v) => v !== from.id && healthy(round, v) && !r.downPeers.includes(v) && !r.pendingPeers.includes(v))
        .sort((a, b) => count(a) - count(b) || byId(a, b))[0];
      if (to === undefined || count(from.id) - count(to) <= Math.max(tol, 1)) continue;
      if (best === undefined || count(to) < count(best.to)) best = { r, to };
    }
    if (best === undefined) continue;
    round.leaderSources.add(from.id);
    emit(
      round,
      best.r,
      'balance-leader',
      [{ kind: 'transferLeader', to: best.to }],
      `store ${from.id} leads ${count(from.id)} regions, ${best.to} leads ${count(best.to)} (tolerance ${tol}): ` +
        `transfer region ${best.r.meta.id}'s leader`,
    );
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

/**
 * The operators to start this round, in scheduler order (replace-down, decommission, split,
 * replica balance, leader balance). Never one for a region that already has an operator.
 */
export function runSchedulers(view: ClusterView, cfg: SchedulerConfig): Operator[] {
  const round = newRound(view, cfg);
  replaceDown(round);
  decommission(round);
  split(round);
  balanceReplicas(round);
  balanceLeaders(round);
  return round.out;
}
