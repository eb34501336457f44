// The PD schedulers as pure functions: each scheduler and its off switch, the safe step order of
// membership moves, the limits (one operator per region, maxConcurrentMoves, one leader transfer
// per source store), determinism, advanceOperator, and two multi-round simulations where
// operators are carried out step by step against the view (decommission, a new empty store).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ClusterView,
  DEFAULT_SCHEDULER_CONFIG,
  type Operator,
  type OperatorStep,
  type RegionView,
  type SchedulerConfig,
  type StoreView,
} from '../../src/pd/cluster-view.js';
import { advanceOperator, currentStep, isStoreDown, runSchedulers } from '../../src/pd/schedulers.js';

const NOW = 100_000_000;
const DOWN_AGO = NOW - DEFAULT_SCHEDULER_CONFIG.storeDownAfterMs - 1;

type ConfigPatch = Partial<Omit<SchedulerConfig, 'enabled'>> & { enabled?: Partial<SchedulerConfig['enabled']> };

function config(patch: ConfigPatch = {}): SchedulerConfig {
  const { enabled, ...rest } = patch;
  return { ...DEFAULT_SCHEDULER_CONFIG, ...rest, enabled: { ...DEFAULT_SCHEDULER_CONFIG.enabled, ...enabled } };
}

/** Only the given schedulers on. */
function only(...on: (keyof SchedulerConfig['enabled'])[]): ConfigPatch {
  return { enabled: { split: on.includes('split'), leaderBalance: on.includes('leaderBalance'), replicaBalance: on.includes('replicaBalance'), replaceDown: on.includes('replaceDown') } };
}

function store(id: string, over: Partial<StoreView> = {}): StoreView {
  return { id, address: `127.0.0.1:${id}`, state: 'up', lastHeartbeatMs: NOW - 1000, regionCount: 0, leaderCount: 0, capacityBytes: 1e12, availableBytes: 1e12, ...over };
}

interface RegionOpts {
  learners?: string[];
  keys?: number;
  bytes?: number;
  version?: number;
  confVer?: number;
  downPeers?: string[];
  pendingPeers?: string[];
  lastHeartbeatMs?: number;
}

function region(id: string, voters: string[], leader: string, o: RegionOpts = {}): RegionView {
  return {
    meta: {
      id,
      startKey: new TextEncoder().encode(id),
      endKey: new TextEncoder().encode(`${id}~`),
      epoch: { confVer: o.confVer ?? 1, version: o.version ?? 1 },
      voters,
      learners: o.learners ?? [],
    },
    leader,
    keys: o.keys ?? 10,
    bytes: o.bytes ?? 1000,
    caughtUpLearners: [],
    downPeers: o.downPeers ?? [],
    pendingPeers: o.pendingPeers ?? [],
    lastHeartbeatMs: o.lastHeartbeatMs ?? NOW - 500,
  };
}

/** Store region and leader counts as the regions say. */
function recount(stores: Iterable<StoreView>, regions: Iterable<RegionView>): Map<string, StoreView> {
  const rs = [...regions];
  const out = new Map<string, StoreView>();
  for (const s of stores) {
    const regionCount = rs.filter((r) => r.meta.voters.includes(s.id) || r.meta.learners.includes(s.id)).length;
    const leaderCount = rs.filter((r) => r.leader === s.id).length;
    out.set(s.id, { ...s, regionCount, leaderCount });
  }
  return out;
}

function cluster(stores: StoreView[], regions: RegionView[], operators: Operator[] = []): ClusterView {
  return {
    nowMs: NOW,
    stores: recount(stores, regions),
    regions: new Map(regions.map((r) => [r.meta.id, r])),
    operators: new Map(operators.map((o) => [o.regionId, o])),
  };
}

function runningOp(regionId: string, kind: Operator['kind'], steps: OperatorStep[], regionVersion = 1): Operator {
  return { regionId, kind, reason: 'test', steps, stepIndex: 0, regionVersion, createdMs: NOW - 10 };
}

const ids = (n: number, prefix = 's'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** The region after one step is carried out (what its next heartbeat would show). */
function applyStep(r: RegionView, step: OperatorStep): RegionView {
  const m = r.meta;
  const epoch = (confDelta: number) => ({ confVer: m.epoch.confVer + confDelta, version: m.epoch.version });
  switch (step.kind) {
    case 'addLearner':
      return { ...r, meta: { ...m, learners: [...m.learners, step.store], epoch: epoch(1) } };
    case 'promote':
      return { ...r, meta: { ...m, learners: m.learners.filter((l) => l !== step.store), voters: [...m.voters, step.store], epoch: epoch(1) } };
    case 'transferLeader':
      assert.ok(m.voters.includes(step.to), `leader ${step.to} must be a voter of ${m.id}`);
      return { ...r, leader: step.to };
    case 'removePeer':
      assert.notEqual(step.store, r.leader, `removePeer(${step.store}) of ${m.id} while it leads`);
      return { ...r, meta: { ...m, voters: m.voters.filter((v) => v !== step.store), learners: m.learners.filter((l) => l !== step.store), epoch: epoch(1) } };
    case 'split':
      return { ...r, meta: { ...m, epoch: { confVer: m.epoch.confVer, version: m.epoch.version + 1 } } };
  }
}

/** Carries out every step in order, checking the voter count never drops below its start and the leader is never removed. */
function assertSafeOrder(r: RegionView, op: Operator): RegionView {
  const start = r.meta.voters.length;
  let cur = r;
  for (const step of op.steps) {
    cur = applyStep(cur, step);
    assert.ok(cur.meta.voters.length >= start, `${op.kind} on ${r.meta.id}: ${cur.meta.voters.length} voters after ${step.kind}, started with ${start}`);
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------

test('isStoreDown: only an up store silent for longer than storeDownAfterMs', () => {
  const cfg = config();
  assert.equal(isStoreDown(store('s1', { lastHeartbeatMs: DOWN_AGO }), NOW, cfg), true);
  assert.equal(isStoreDown(store('s1', { lastHeartbeatMs: NOW - cfg.storeDownAfterMs }), NOW, cfg), false, 'exactly at the limit');
  assert.equal(isStoreDown(store('s1'), NOW, cfg), false);
  assert.equal(isStoreDown(store('s1', { lastHeartbeatMs: 0 }), NOW, cfg), false, 'never heard from since PD started');
  assert.equal(isStoreDown(store('s1', { state: 'offline', lastHeartbeatMs: DOWN_AGO }), NOW, cfg), false);
  assert.equal(isStoreDown(store('s1', { state: 'tombstone', lastHeartbeatMs: DOWN_AGO }), NOW, cfg), false);
});

test('split: regions over the key or byte limit, each limit can be 0, and the switch', () => {
  const stores = ids(3).map((s) => store(s));
  const v = ['s1', 's2', 's3'];
  const regions = [
    region('r1', v, 's1', { keys: 200_000 }),
    region('r2', v, 's2', { bytes: 70 * 1024 * 1024, version: 7 }),
    region('r3', v, 's3', { keys: 100_000, bytes: 64 * 1024 * 1024 }), // at the limits: no split
  ];
  const ops = runSchedulers(cluster(stores, regions), config());
  assert.deepEqual(
    ops.map((o) => [o.regionId, o.kind, o.steps, o.regionVersion, o.createdMs, o.stepIndex]),
    [
      ['r1', 'split', [{ kind: 'split', splitKey: null }], 1, NOW, 0],
      ['r2', 'split', [{ kind: 'split', splitKey: null }], 7, NOW, 0],
    ],
  );
  assert.match(ops[0]!.reason, /200000 keys.*100000/);
  assert.match(ops[1]!.reason, /73400320 bytes/);

  assert.deepEqual(runSchedulers(cluster(stores, regions), config({ splitMaxKeys: 0 })).map((o) => o.regionId), ['r2']);
  assert.deepEqual(runSchedulers(cluster(stores, regions), config({ splitMaxBytes: 0 })).map((o) => o.regionId), ['r1']);
  assert.deepEqual(runSchedulers(cluster(stores, regions), config({ enabled: { split: false } })), []);
});

test('only regions PD can act on: heard from, with a known leader on a live store', () => {
  const stores = [...ids(3).map((s) => store(s)), store('s4', { lastHeartbeatMs: DOWN_AGO })];
  const big = { keys: 1e6 };
  const regions = [
    region('r1', ['s1', 's2', 's3'], 's1', { ...big, lastHeartbeatMs: 0 }),
    region('r2', ['s1', 's2', 's3'], '', big),
    region('r3', ['s4', 's2', 's3'], 's4', big), // leader's store is down (and quorum is fine)
    region('r4', ['s1', 's2', 's3'], 's2', big),
  ];
  const ops = runSchedulers(cluster(stores, regions), config(only('split')));
  assert.deepEqual(ops.map((o) => o.regionId), ['r4']);
});

test('replace-down: a down store`s voter moves to the healthy store with the fewest regions', () => {
  const stores = [store('s1'), store('s2'), store('s3', { lastHeartbeatMs: DOWN_AGO }), store('s4'), store('s5')];
  const regions = [
    region('r1', ['s1', 's2', 's3'], 's1'),
    region('r2', ['s1', 's2', 's5'], 's2'), // s5 holds one region, s4 none
  ];
  const view = cluster(stores, regions);
  const ops = runSchedulers(view, config(only('replaceDown')));
  assert.equal(ops.length, 1);
  const op = ops[0]!;
  assert.equal(op.kind, 'replace-down');
  assert.equal(op.regionId, 'r1');
  assert.deepEqual(op.steps, [
    { kind: 'addLearner', store: 's4' },
    { kind: 'promote', store: 's4' },
    { kind: 'removePeer', store: 's3' },
  ]);
  assert.match(op.reason, /s3 is down/);
  assert.match(op.reason, /2 of 3 voters/);
  const after = assertSafeOrder(regions[0]!, op);
  assert.deepEqual([...after.meta.voters].sort(), ['s1', 's2', 's4']);

  // Switched off: r1 keeps its replica on s3 (a balance move of r2 to the empty s4 still happens).
  const off = runSchedulers(view, config({ enabled: { replaceDown: false } }));
  assert.deepEqual(off.map((o) => [o.regionId, o.kind]), [['r2', 'balance-replica']]);
});

test('replace-down: a learner on a down store is re-added as a learner, never promoted', () => {
  const stores = [store('s1'), store('s2'), store('s3'), store('s4', { lastHeartbeatMs: DOWN_AGO }), store('s5')];
  const r = region('r1', ['s1', 's2', 's3'], 's1', { learners: ['s4'] });
  const ops = runSchedulers(cluster(stores, [r]), config(only('replaceDown')));
  assert.deepEqual(ops.map((o) => [o.kind, o.steps]), [
    [
      'replace-down',
      [
        { kind: 'addLearner', store: 's5' },
        { kind: 'removePeer', store: 's4' },
      ],
    ],
  ]);
  assert.match(ops[0]!.reason, /learner/);
});

test('replace-down: nothing when there is no target, or when the live voters lost their majority', () => {
  const down = { lastHeartbeatMs: DOWN_AGO };
  // Three stores, one down: every healthy store already holds the region.
  const noTarget = cluster([store('s1'), store('s2'), store('s3', down)], [region('r1', ['s1', 's2', 's3'], 's1')]);
  assert.deepEqual(runSchedulers(noTarget, config()), []);
  // Two of three voters down: a membership change could not commit.
  const noQuorum = cluster([store('s1'), store('s2', down), store('s3', down), store('s4'), store('s5')], [region('r1', ['s1', 's2', 's3'], 's1')]);
  assert.deepEqual(runSchedulers(noQuorum, config()), []);
  // A tombstoned store counts as lost, like a down one.
  const tomb = cluster([store('s1'), store('s2'), store('s3', { state: 'tombstone' }), store('s4')], [region('r1', ['s1', 's2', 's3'], 's1')]);
  assert.deepEqual(runSchedulers(tomb, config(only('replaceDown'))).map((o) => [o.kind, o.steps.at(-1)]), [['replace-down', { kind: 'removePeer', store: 's3' }]]);
});

test('under-replicated region: a voter is added (learner, then promote), or a healthy learner promoted', () => {
  const stores = ids(4).map((s) => store(s));
  const regions = [region('r1', ['s1', 's2'], 's1'), region('r2', ['s1', 's2', 's4'], 's2', { learners: [] }), region('r3', ['s2', 's3'], 's3', { learners: ['s4'] })];
  const ops = runSchedulers(cluster(stores, regions), config(only('replaceDown')));
  assert.deepEqual(
    ops.map((o) => [o.regionId, o.kind, o.steps]),
    [
      [
        'r1',
        'balance-replica',
        [
          { kind: 'addLearner', store: 's3' }, // s3 holds 1 region, s4 holds 2
          { kind: 'promote', store: 's3' },
        ],
      ],
      ['r3', 'balance-replica', [{ kind: 'promote', store: 's4' }]],
    ],
  );
  assert.match(ops[0]!.reason, /2 voters, wants 3/);
  // Switched off with replaceDown: what the other schedulers do here are moves (each removes a replica).
  const others = runSchedulers(cluster(stores, regions), config({ enabled: { replaceDown: false } }));
  assert.ok(others.length > 0);
  for (const o of others) assert.ok(o.steps.some((s) => s.kind === 'removePeer'), JSON.stringify(o));
});

test('decommission: the offline store`s leader hands over to the new voter before it is removed', () => {
  // s3 is offline and also silent: down-ness of an offline store does not matter.
  const stores = [store('s1'), store('s2'), store('s3', { state: 'offline', lastHeartbeatMs: DOWN_AGO + 5 * 60_000 }), store('s4')];
  const r = region('r1', ['s1', 's2', 's3'], 's3');
  const ops = runSchedulers(cluster(stores, [r]), config());
  assert.equal(ops.length, 1);
  assert.equal(ops[0]!.kind, 'decommission');
  assert.deepEqual(ops[0]!.steps, [
    { kind: 'addLearner', store: 's4' },
    { kind: 'promote', store: 's4' },
    { kind: 'transferLeader', to: 's4' },
    { kind: 'removePeer', store: 's3' },
  ]);
  assert.match(ops[0]!.reason, /s3 is offline.*its leader.*s4/);
  const after = assertSafeOrder(r, ops[0]!);
  assert.equal(after.leader, 's4');

  // Nowhere to go: an offline store among three keeps its replicas.
  const stuck = cluster([store('s1'), store('s2'), store('s3', { state: 'offline' })], [region('r1', ['s1', 's2', 's3'], 's1')]);
  assert.deepEqual(runSchedulers(stuck, config()), []);
});

test('every membership move keeps the voter count and moves leadership off a store before removing it', () => {
  const down = { lastHeartbeatMs: DOWN_AGO };
  const scenarios: [StoreView[], RegionView[]][] = [
    [[store('s1'), store('s2'), store('s3', down), store('s4')], [region('r1', ['s1', 's2', 's3'], 's2')]],
    [[store('s1'), store('s2'), store('s3', { state: 'offline' }), store('s4')], [region('r1', ['s1', 's2', 's3'], 's3'), region('r2', ['s3', 's1', 's2'], 's1', { learners: [] })]],
    [ids(4).map((s) => store(s)), ids(8, 'r').map((id, i) => region(id, ['s1', 's2', 's3'], `s${(i % 3) + 1}`))],
  ];
  let moves = 0;
  for (const [stores, regions] of scenarios) {
    const view = cluster(stores, regions);
    for (const op of runSchedulers(view, config({ maxConcurrentMoves: 10 }))) {
      if (op.steps.some((s) => s.kind === 'removePeer')) moves++;
      const r = view.regions.get(op.regionId)!;
      // addLearner(T) and promote(T) come before removePeer; a leader's removal is preceded by a transfer
      const add = op.steps.findIndex((s) => s.kind === 'addLearner');
      const remove = op.steps.findIndex((s) => s.kind === 'removePeer');
      if (remove >= 0) assert.ok(add >= 0 && add < remove, `${op.kind} on ${op.regionId}: ${JSON.stringify(op.steps)}`);
      assertSafeOrder(r, op);
    }
  }
  assert.ok(moves >= 5, `expected several moves, got ${moves}`);
});

test('no operator for a region that already has one', () => {
  const stores = [store('s1'), store('s2'), store('s3', { lastHeartbeatMs: DOWN_AGO }), store('s4')];
  const big = { keys: 1e6 };
  const regions = [region('r1', ['s1', 's2', 's4'], 's1', big), region('r2', ['s1', 's2', 's4'], 's1', big), region('r3', ['s1', 's2', 's3'], 's1')];
  const running = [runningOp('r1', 'admin', [{ kind: 'transferLeader', to: 's2' }]), runningOp('r3', 'balance-leader', [{ kind: 'transferLeader', to: 's2' }])];
  const ops = runSchedulers(cluster(stores, regions, running), config());
  assert.deepEqual(ops.map((o) => [o.regionId, o.kind]), [['r2', 'split']]);
  // Without the running operators, r1 splits and r3's replica on the down s3 is replaced.
  const free = runSchedulers(cluster(stores, regions), config());
  assert.deepEqual(free.map((o) => [o.regionId, o.kind]).sort(), [['r1', 'split'], ['r2', 'split'], ['r3', 'replace-down']]);
  // And never two for one region in a round (r1 is both big and on a down store: replace-down goes first).
  const both = runSchedulers(cluster(stores, [region('r1', ['s1', 's2', 's3'], 's1', big)]), config());
  assert.deepEqual(both.map((o) => [o.regionId, o.kind]), [['r1', 'replace-down']]);
});

test('maxConcurrentMoves counts running and new moves; splits are not limited', () => {
  const stores = [...ids(3).map((s) => store(s)), store('s4', { state: 'offline' }), store('s5'), store('s6')];
  const regions = [...ids(6, 'r').map((id) => region(id, ['s1', 's2', 's4'], 's1')), region('r7', ['s1', 's2', 's3'], 's1'), region('r8', ['s1', 's2', 's3'], 's2', { keys: 1e6 }), region('r9', ['s1', 's2', 's3'], 's3', { keys: 1e6 })];
  const running = [runningOp('r7', 'balance-replica', [{ kind: 'addLearner', store: 's5' }, { kind: 'promote', store: 's5' }, { kind: 'removePeer', store: 's3' }])];
  const ops = runSchedulers(cluster(stores, regions, running), config({ maxConcurrentMoves: 4, enabled: { leaderBalance: false } }));
  assert.deepEqual(ops.map((o) => [o.regionId, o.kind]), [['r1', 'decommission'], ['r2', 'decommission'], ['r3', 'decommission'], ['r8', 'split'], ['r9', 'split']]);
  // Targets spread: s6 starts with 0 and s5 with 1 pending (the running operator adds it).
  assert.deepEqual(ops.slice(0, 3).map((o) => (o.steps[0] as { store: string }).store), ['s6', 's5', 's6']);
  const full = runSchedulers(cluster(stores, regions, running), config({ maxConcurrentMoves: 1, enabled: { leaderBalance: false } }));
  assert.deepEqual(full.map((o) => o.kind), ['split', 'split']);
});

test('leader balance: one transfer per source store per round, to the voter leading the fewest', () => {
  const stores = ids(3).map((s) => store(s));
  const v = ['s1', 's2', 's3'];
  const allOnS1 = ids(6, 'r').map((id) => region(id, v, 's1'));
  const ops = runSchedulers(cluster(stores, allOnS1), config());
  assert.deepEqual(ops.map((o) => [o.regionId, o.kind, o.steps]), [['r1', 'balance-leader', [{ kind: 'transferLeader', to: 's2' }]]]);
  assert.equal(ops[0]!.reason, "store s1 leads 6 regions, s2 leads 0 (tolerance 1): transfer region r1's leader");
  assert.deepEqual(runSchedulers(cluster(stores, allOnS1), config({ enabled: { leaderBalance: false } })), []);

  // Two loaded sources, one empty store: one transfer from each, the second accounting for the first.
  const twoSources = ids(8, 'r').map((id, i) => region(id, v, i < 4 ? 's1' : 's2'));
  const ops2 = runSchedulers(cluster(stores, twoSources), config());
  assert.deepEqual(ops2.map((o) => [o.regionId, o.steps]), [
    ['r1', [{ kind: 'transferLeader', to: 's3' }]],
    ['r5', [{ kind: 'transferLeader', to: 's3' }]],
  ]);
  assert.match(ops2[1]!.reason, /s2 leads 4 regions, s3 leads 1/);

  // Within tolerance: nothing.
  const balanced = [region('r1', v, 's1'), region('r2', v, 's1'), region('r3', v, 's2'), region('r4', v, 's3')];
  assert.deepEqual(runSchedulers(cluster(stores, balanced), config()), []);
  assert.equal(runSchedulers(cluster(stores, balanced), config({ leaderBalanceTolerance: 0 })).length, 0, 'a difference of 1 is never swapped back and forth');

  // Only to a voter of the region: the empty s4 holds no replica of r1..r6, and s2/s3 are close enough to s1.
  const spread = [...ids(3, 'r').map((id) => region(id, v, 's1')), region('r4', v, 's2'), region('r5', v, 's2'), region('r6', v, 's3'), region('r7', v, 's3')];
  assert.deepEqual(runSchedulers(cluster([...stores, store('s4')], spread), config(only('leaderBalance'))), []);
  // Never to a voter the leader reports down or lagging (it may have lost its replica): s2 is
  // skipped for the next best, s3.
  const s2Down = ids(6, 'r').map((id) => region(id, v, 's1', { downPeers: ['s2'] }));
  assert.deepEqual(runSchedulers(cluster(stores, s2Down), config(only('leaderBalance'))).map((o) => o.steps), [[{ kind: 'transferLeader', to: 's3' }]]);
  const bothBad = ids(6, 'r').map((id) => region(id, v, 's1', { downPeers: ['s2'], pendingPeers: ['s3'] }));
  assert.deepEqual(runSchedulers(cluster(stores, bothBad), config(only('leaderBalance'))), []);
});

test('replica balance: moves from the fullest to the emptiest store, spread over targets, followers first', () => {
  const v = ['s1', 's2', 's3'];
  const regions = ids(6, 'r').map((id, i) => region(id, v, `s${(i % 3) + 1}`));
  const ops = runSchedulers(cluster(ids(5).map((s) => store(s)), regions), config(only('replicaBalance')));
  assert.deepEqual(
    ops.map((o) => [o.regionId, o.kind, o.steps]),
    [
      // counts 6,6,6,0,0 -> 5,6,6,1,0 -> 5,5,6,1,1 -> 5,5,5,2,1 -> 4,5,5,2,2 (then maxConcurrentMoves);
      // each time the first free region the source does not lead (r1 is led by s1, r3 by s3)
      ['r2', 'balance-replica', [{ kind: 'addLearner', store: 's4' }, { kind: 'promote', store: 's4' }, { kind: 'removePeer', store: 's1' }]],
      ['r1', 'balance-replica', [{ kind: 'addLearner', store: 's5' }, { kind: 'promote', store: 's5' }, { kind: 'removePeer', store: 's2' }]],
      ['r4', 'balance-replica', [{ kind: 'addLearner', store: 's4' }, { kind: 'promote', store: 's4' }, { kind: 'removePeer', store: 's3' }]],
      ['r3', 'balance-replica', [{ kind: 'addLearner', store: 's5' }, { kind: 'promote', store: 's5' }, { kind: 'removePeer', store: 's1' }]],
    ],
  );
  assert.match(ops[0]!.reason, /s1 holds 6 regions, s4 holds 0 \(tolerance 1\)/);
  assert.deepEqual(runSchedulers(cluster(ids(5).map((s) => store(s)), regions), config({ enabled: { replicaBalance: false }, ...only('leaderBalance') })), []);

  // Counts 3,2,2,2 with tolerance 0: a move would only swap the difference of 1 to another store.
  const nearly = [region('r1', ['s1', 's2', 's3'], 's1'), region('r2', ['s1', 's2', 's4'], 's2'), region('r3', ['s1', 's3', 's4'], 's3')];
  assert.deepEqual(runSchedulers(cluster(ids(4).map((s) => store(s)), nearly), config({ ...only('replicaBalance'), replicaBalanceTolerance: 0 })), []);
  // A region with a down peer is not a balance candidate.
  const sick = ids(4, 'r').map((id) => region(id, v, 's1', { downPeers: ['s2'] }));
  assert.deepEqual(runSchedulers(cluster(ids(4).map((s) => store(s)), sick), config(only('replicaBalance'))), []);
  // Nor is one with a replica still catching up (a pending peer).
  const catchingUp = ids(4, 'r').map((id) => region(id, v, 's1', { pendingPeers: ['s3'] }));
  assert.deepEqual(runSchedulers(cluster(ids(4).map((s) => store(s)), catchingUp), config(only('replicaBalance'))), []);
  // A store that is not healthy (never heard from) receives nothing.
  assert.deepEqual(runSchedulers(cluster([...ids(3).map((s) => store(s)), store('s4', { lastHeartbeatMs: 0 })], regions), config(only('replicaBalance'))), []);
});

test('deterministic: same view (whatever the map order) gives the same operators', () => {
  const stores = [store('s1'), store('s2'), store('s3', { state: 'offline' }), store('s4'), store('s5', { lastHeartbeatMs: DOWN_AGO }), store('s6'), store('s7')];
  const regions = ids(20, 'r').map((id, i) => {
    const all = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const voters = [all[i % 6]!, all[(i + 1) % 6]!, all[(i + 3) % 6]!];
    const leader = voters.find((s) => s !== 's5')!;
    return region(id, voters, leader, { keys: i % 7 === 0 ? 1e6 : 5 });
  });
  const a = runSchedulers(cluster(stores, regions), config({ maxConcurrentMoves: 16 }));
  const b = runSchedulers(cluster([...stores].reverse(), [...regions].reverse()), config({ maxConcurrentMoves: 16 }));
  const c = runSchedulers(cluster(stores, regions), config({ maxConcurrentMoves: 16 }));
  assert.ok(a.length >= 8, `expected a busy round, got ${a.length}`);
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
  const kinds = new Set(a.map((o) => o.kind));
  for (const k of ['replace-down', 'decommission', 'split'] as const) assert.ok(kinds.has(k), `no ${k} in ${[...kinds]}`);
  assert.equal(new Set(a.map((o) => o.regionId)).size, a.length, 'one operator per region');
});

// ---------------------------------------------------------------------------------------------
// advanceOperator

test('advanceOperator: each step kind is done once its effect shows', () => {
  const v = ['s1', 's2', 's3'];
  const op = runningOp('r1', 'decommission', [
    { kind: 'addLearner', store: 's4' },
    { kind: 'promote', store: 's4' },
    { kind: 'transferLeader', to: 's4' },
    { kind: 'removePeer', store: 's3' },
  ]);
  assert.deepEqual(currentStep(op), { kind: 'addLearner', store: 's4' });
  assert.equal(advanceOperator(op, region('r1', v, 's3')), 'running');
  assert.equal(op.stepIndex, 0);
  assert.equal(advanceOperator(op, region('r1', v, 's3', { learners: ['s4'] })), 'running');
  assert.equal(op.stepIndex, 1);
  assert.equal(advanceOperator(op, region('r1', [...v, 's4'], 's3')), 'running');
  assert.equal(op.stepIndex, 2);
  assert.deepEqual(currentStep(op), { kind: 'transferLeader', to: 's4' });
  assert.equal(advanceOperator(op, region('r1', [...v, 's4'], 's4')), 'running');
  assert.equal(op.stepIndex, 3);
  assert.equal(advanceOperator(op, region('r1', ['s1', 's2', 's4'], 's4')), 'done');
  assert.equal(op.stepIndex, 4);
  assert.equal(currentStep(op), undefined);

  // Several effects in one heartbeat; and it stops at the first step not yet visible.
  const fast = runningOp('r1', 'replace-down', [{ kind: 'addLearner', store: 's4' }, { kind: 'promote', store: 's4' }, { kind: 'removePeer', store: 's3' }]);
  assert.equal(advanceOperator(fast, region('r1', ['s1', 's2', 's4'], 's1')), 'done');
  assert.equal(fast.stepIndex, 3);
  const gap = runningOp('r1', 'replace-down', [{ kind: 'addLearner', store: 's4' }, { kind: 'removePeer', store: 's3' }]);
  assert.equal(advanceOperator(gap, region('r1', ['s1', 's2'], 's1')), 'running');
  assert.equal(gap.stepIndex, 0, 's3 is gone but s4 was not added: the operator waits at addLearner');

  const leader = runningOp('r2', 'balance-leader', [{ kind: 'transferLeader', to: 's2' }]);
  assert.equal(advanceOperator(leader, region('r2', v, 's1')), 'running');
  assert.equal(advanceOperator(leader, region('r2', v, 's2')), 'done');
});

test('advanceOperator: a split is done when the version rises; any other operator is then obsolete', () => {
  const v = ['s1', 's2', 's3'];
  const split = runningOp('r1', 'split', [{ kind: 'split', splitKey: null }], 3);
  assert.equal(advanceOperator(split, region('r1', v, 's1', { version: 3 })), 'running');
  assert.equal(split.stepIndex, 0);
  assert.equal(advanceOperator(split, region('r1', v, 's1', { version: 4 })), 'done');
  assert.equal(split.stepIndex, 1);

  const move = runningOp('r1', 'balance-replica', [{ kind: 'addLearner', store: 's4' }, { kind: 'promote', store: 's4' }, { kind: 'removePeer', store: 's1' }], 3);
  assert.equal(advanceOperator(move, region('r1', v, 's2', { version: 3, learners: ['s4'] })), 'running');
  assert.equal(move.stepIndex, 1);
  assert.equal(advanceOperator(move, region('r1', v, 's2', { version: 4, learners: ['s4'] })), 'obsolete');
  // Finished in the same heartbeat that shows the split: done, nothing to abandon.
  const finished = runningOp('r1', 'balance-leader', [{ kind: 'transferLeader', to: 's2' }], 3);
  assert.equal(advanceOperator(finished, region('r1', v, 's2', { version: 4 })), 'done');
});

// ---------------------------------------------------------------------------------------------
// Simulations: operators carried out one step per tick, as region heartbeats would show them

interface Sim {
  stores: StoreView[];
  regions: Map<string, RegionView>;
  operators: Map<string, Operator>;
  created: Operator[];
}

function simView(sim: Sim): ClusterView {
  return { nowMs: NOW, stores: recount(sim.stores, sim.regions.values()), regions: sim.regions, operators: sim.operators };
}

/** Runs rounds until a round creates nothing and no operator runs; returns the number of ticks. */
function simulate(sim: Sim, cfg: SchedulerConfig, maxTicks = 500): number {
  for (let tick = 0; tick < maxTicks; tick++) {
    const ops = runSchedulers(simView(sim), cfg);
    for (const op of ops) {
      assert.ok(!sim.operators.has(op.regionId), `second operator for ${op.regionId}`);
      sim.operators.set(op.regionId, op);
      sim.created.push(op);
    }
    const moving = [...sim.operators.values()].filter((o) => o.kind !== 'split' && o.kind !== 'balance-leader').length;
    assert.ok(moving <= cfg.maxConcurrentMoves, `${moving} moves at once`);
    if (sim.operators.size === 0) return tick;
    for (const op of [...sim.operators.values()]) {
      const step = currentStep(op)!;
      const before = sim.regions.get(op.regionId)!;
      const after = applyStep(before, step);
      assert.ok(after.meta.voters.length >= Math.min(before.meta.voters.length, cfg.replicas), `${op.regionId} lost a voter at ${step.kind}`);
      sim.regions.set(op.regionId, after);
      const state = advanceOperator(op, after);
      assert.notEqual(state, 'obsolete');
      if (state === 'done') sim.operators.delete(op.regionId);
    }
  }
  assert.fail(`no quiet state after ${maxTicks} ticks`);
}

test('simulation: a decommissioned store is emptied completely over successive rounds', () => {
  const all = ['s1', 's2', 's3', 's4', 's5'];
  const regions = ids(16, 'r').map((id, i) => {
    const voters = [all[i % 5]!, all[(i + 1) % 5]!, all[(i + 2) % 5]!];
    return region(id, voters, voters[i % 3]!);
  });
  const onS2 = regions.filter((r) => r.meta.voters.includes('s2'));
  assert.ok(onS2.some((r) => r.leader === 's2') && onS2.length > 4, 'the scenario has s2 replicas and leaders beyond one round');
  const stores = all.map((s) => store(s, s === 's2' ? { state: 'offline' } : {}));
  const sim: Sim = { stores, regions: new Map(regions.map((r) => [r.meta.id, r])), operators: new Map(), created: [] };
  const ticks = simulate(sim, config({ maxConcurrentMoves: 3 }));

  const view = simView(sim);
  assert.equal(view.stores.get('s2')!.regionCount, 0);
  assert.equal(view.stores.get('s2')!.leaderCount, 0);
  for (const r of sim.regions.values()) {
    assert.equal(r.meta.voters.length, 3, `${r.meta.id} has ${r.meta.voters.length} voters`);
    assert.equal(new Set(r.meta.voters).size, 3);
    assert.deepEqual(r.meta.learners, []);
  }
  const decommissions = sim.created.filter((o) => o.kind === 'decommission');
  assert.equal(decommissions.length, onS2.length, 'one move per region that had a replica on s2');
  assert.ok(ticks > 4, `took several rounds (${ticks} ticks)`);
  // The remaining stores end balanced.
  const counts = ['s1', 's3', 's4', 's5'].map((s) => view.stores.get(s)!.regionCount);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `region counts ${counts}`);
});

test('simulation: a new empty store receives replicas, then leaders, until within tolerance', () => {
  const v = ['s1', 's2', 's3'];
  const regions = ids(12, 'r').map((id, i) => region(id, v, v[i % 3]!));
  const stores = ids(4).map((s) => store(s));
  const sim: Sim = { stores, regions: new Map(regions.map((r) => [r.meta.id, r])), operators: new Map(), created: [] };
  const cfg = config();
  simulate(sim, cfg);

  const view = simView(sim);
  const regionCounts = ids(4).map((s) => view.stores.get(s)!.regionCount);
  const leaderCounts = ids(4).map((s) => view.stores.get(s)!.leaderCount);
  assert.deepEqual(regionCounts, [9, 9, 9, 9], 'replicas spread evenly');
  assert.ok(Math.max(...leaderCounts) - Math.min(...leaderCounts) <= cfg.leaderBalanceTolerance, `leader counts ${leaderCounts}`);
  assert.ok(leaderCounts[3]! >= 2, `s4 leads ${leaderCounts[3]}`);
  for (const r of sim.regions.values()) assert.equal(r.meta.voters.length, 3);

  const toS4 = sim.created.filter((o) => o.kind === 'balance-replica' && o.steps.some((s) => s.kind === 'addLearner' && s.store === 's4'));
  const leadersToS4 = sim.created.filter((o) => o.kind === 'balance-leader' && o.steps.some((s) => s.kind === 'transferLeader' && s.to === 's4'));
  assert.equal(toS4.length, 9);
  assert.ok(leadersToS4.length > 0, 'leaders were moved to s4');
  assert.ok(sim.created.indexOf(leadersToS4[0]!) > sim.created.indexOf(toS4[0]!), 'replicas arrive before leaders');
});

test('leftovers of an abandoned operator are trimmed: a stray learner, then a voter beyond the wanted count', () => {
  const stores = ['s1', 's2', 's3', 's4'].map((id) => store(id));
  const stray = runSchedulers(cluster(stores, [region('r1', ['s1', 's2', 's3'], 's1', { learners: ['s4'] })]), config(only('replaceDown')));
  assert.deepEqual(stray.map((o) => o.steps), [[{ kind: 'removePeer', store: 's4' }]]);
  // Four voters: a follower on the fullest store goes (no handover needed)...
  const regions = [region('r1', ['s1', 's2', 's3', 's4'], 's2'), region('r2', ['s2', 's3', 's4'], 's3')];
  const four = runSchedulers(cluster([...recount(stores, regions).values()], regions), config(only('replaceDown')));
  assert.equal(four.length, 1);
  assert.equal(four[0]!.regionId, 'r1');
  assert.deepEqual(four[0]!.steps, [{ kind: 'removePeer', store: 's3' }]);
  // Off with replaceDown.
  assert.deepEqual(runSchedulers(cluster([...recount(stores, regions).values()], regions), config(only('split'))), []);
});
