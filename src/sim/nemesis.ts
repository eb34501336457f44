// The nemesis: what goes wrong during the fault phase of a run. At random intervals it crashes
// and restarts nodes (the leader more often than others), partitions the network (both ways or
// one way), turns up loss/duplication/reordering, stalls disks, forces snapshots, transfers
// leadership and changes the membership (learners, promotions, removals including the leader,
// joint changes). Targeted faults react to leader events: a leader just elected, or just
// committing, is cut off (and often crashed) at once, so that leaders die with their latest
// entries on only some followers: the Figure 8 situation the commit rule must survive.

import { RaftError } from '../raft/core/errors.js';
import type { ConfChange, ConfChangeSingle, ConfState, NodeId } from '../raft/core/types.js';
import type { EventQueue } from './event-queue.js';
import type { Network } from './network.js';
import { type LeaderEvent, type SimNode, formatConf, members } from './node-host.js';
import type { Profile } from './options.js';
import { type SimRand, chance, pick, shuffled, uniform, weighted } from './rng.js';
import type { Trace } from './trace.js';

export interface NemesisHost {
  readonly queue: EventQueue;
  readonly trace: Trace;
  readonly net: Network;
  /** Every node ever started (including stopped ones), in creation order. */
  allNodes(): SimNode[];
  /** The running leader with the highest term, if any. */
  leader(): SimNode | undefined;
  crash(id: NodeId): void;
  restart(id: NodeId): void;
  /** Creates a node with an empty storage and starts it (it joins when a leader adds it). */
  spawn(id: NodeId): SimNode;
  readonly initialNodes: number;
}

const MAX_MEMBERS = 7;

export class Nemesis {
  private active = false;
  /** Until when the current partition lasts (one at a time). */
  private partitionUntil = 0;
  private spawned = 0;
  /** Number of the next node id to create (n1..nN are the initial cluster). */
  private nextNode: number;
  readonly stats = { crashes: 0, partitions: 0, bursts: 0, stalls: 0, transfers: 0, confChanges: 0, confRejected: 0 };

  constructor(
    private readonly host: NemesisHost,
    private readonly rand: SimRand,
    private readonly profile: Profile,
    private readonly baseRates: { lossRate: number; dupRate: number; reorderRate: number },
  ) {
    this.nextNode = host.initialNodes + 1;
  }

  private get now(): number {
    return this.host.queue.now;
  }

  private note(kind: string, text: string): void {
    this.host.trace.add('nem', kind, text);
  }

  start(): void {
    this.active = true;
    this.host.net.rates = { ...this.baseRates };
    this.schedule();
  }

  /** Ends the fault phase: no more actions, heal the network, restart every crashed node. */
  heal(): void {
    this.active = false;
    this.host.net.healAll();
    this.host.net.rates = { lossRate: 0, dupRate: 0, reorderRate: 0 };
    this.partitionUntil = 0;
    for (const n of this.host.allNodes()) {
      n.disk.stalledUntil = 0;
      if (!n.up && !n.decommissioned) this.host.restart(n.id);
    }
    this.note('heal', 'fault phase over: network healed, loss off, every crashed node restarted');
  }

  /**
   * Targeted faults: a leader that was just elected, or just applied (committed) entries, is
   * sometimes cut off at once (dropping what it has in flight) and often crashed too, before its
   * latest entries reach a majority. Sequences of these produce the Figure 8 situation (entries
   * of old terms on some nodes, new leaders without them) that the commit rule must survive.
   */
  onLeaderEvent(node: NodeId, what: LeaderEvent): void {
    if (!this.active) return;
    const p =
      what === 'elected'
        ? this.profile.crashNewLeaderRate
        : what === 'applied-old'
          ? Math.min(1, this.profile.crashCommittingLeaderRate * 3)
          : this.profile.crashCommittingLeaderRate;
    if (!chance(this.rand, p)) return;
    const n = this.host.allNodes().find((x) => x.id === node);
    if (!n) return;
    const inc = n.incarnation;
    const crash = chance(this.rand, 0.7);
    // At once (nothing it sent in this instant gets through), or a little later (what it sent
    // reached only the closest followers: partial replication).
    const delay = chance(this.rand, 0.5) ? uniform(this.rand, 0, 0.3) : uniform(this.rand, 0.3, 6);
    this.host.queue.after(delay, () => {
      if (!this.active || !n.up || n.incarnation !== inc) return;
      this.stats.crashes++;
      this.note('targeted', `${crash ? 'crash and ' : ''}isolate ${node} right after it ${what === 'elected' ? 'was elected' : what === 'applied' ? 'committed entries' : 'committed entries of earlier terms'}`);
      this.host.net.isolate(node);
      this.host.queue.after(uniform(this.rand, 20, 600), () => {
        if (this.active) this.host.net.unisolate(node);
      });
      if (crash) {
        this.host.crash(node);
        this.restartLater(node);
      }
    });
  }

  private schedule(): void {
    const mean = this.profile.nemesisEveryMs;
    this.host.queue.after(uniform(this.rand, mean * 0.2, mean * 1.8), () => {
      if (!this.active) return;
      this.act();
      this.schedule();
    });
  }

  private up(): SimNode[] {
    return this.host.allNodes().filter((n) => n.up);
  }

  private act(): void {
    const p = this.profile;
    const actions: [number, () => void][] = [
      [3, () => this.crashLeader()],
      [2, () => this.crashAny()],
      [2, () => this.partition()],
      [1, () => this.oneWay()],
      [1, () => this.burst()],
      [1, () => this.stall()],
      [0.5, () => this.compact()],
      [p.transfers ? 1.5 : 0, () => this.transfer()],
      [p.membership ? 2 : 0, () => this.membership()],
    ];
    const i = weighted(this.rand, actions.map((a) => a[0]));
    actions[i]![1]();
  }

  private restartLater(id: NodeId): void {
    const delay = chance(this.rand, 0.3) ? uniform(this.rand, 5, 60) : uniform(this.rand, 60, 1500);
    this.host.queue.after(delay, () => {
      const n = this.host.allNodes().find((x) => x.id === id);
      if (this.active && n && !n.up && !n.decommissioned) this.host.restart(id);
    });
  }

  private crashLeader(): void {
    const l = this.host.leader();
    if (!l) return this.crashAny();
    // Sometimes wait a moment: the leader dies with its latest entries on only some followers.
    const delay = chance(this.rand, 0.5) ? uniform(this.rand, 0, 8) : 0;
    this.host.queue.after(delay, () => {
      if (!this.active || !l.up) return;
      this.stats.crashes++;
      this.host.crash(l.id);
      this.restartLater(l.id);
    });
  }

  private crashAny(): void {
    const ups = this.up();
    if (ups.length === 0) return;
    const n = pick(this.rand, ups);
    this.stats.crashes++;
    this.host.crash(n.id);
    this.restartLater(n.id);
  }

  private partition(): void {
    if (this.now < this.partitionUntil) return;
    const ids = this.host.allNodes().filter((n) => !n.decommissioned).map((n) => n.id);
    if (ids.length < 2) return;
    const l = this.host.leader();
    let groups: NodeId[][];
    if (l && chance(this.rand, 0.4)) {
      // Isolate the leader (alone, or with a minority).
      const others = shuffled(this.rand, ids.filter((x) => x !== l.id));
      const k = this.rand.int(Math.max(1, Math.floor((ids.length - 1) / 2)));
      groups = [[l.id, ...others.slice(0, k)], others.slice(k)];
    } else {
      const s = shuffled(this.rand, ids);
      const k = 1 + this.rand.int(s.length - 1);
      groups = [s.slice(0, k), s.slice(k)];
    }
    this.stats.partitions++;
    this.host.net.partition(groups);
    this.partitionUntil = this.now + uniform(this.rand, 50, 1200);
    const until = this.partitionUntil;
    this.host.queue.at(until, () => {
      if (this.active && this.partitionUntil === until) this.host.net.healAll();
    });
  }

  private oneWay(): void {
    if (this.now < this.partitionUntil) return;
    const ids = this.host.allNodes().filter((n) => !n.decommissioned).map((n) => n.id);
    if (ids.length < 2) return;
    const l = this.host.leader();
    const a = l && chance(this.rand, 0.6) ? l.id : pick(this.rand, ids);
    const others = ids.filter((x) => x !== a);
    const victims = shuffled(this.rand, others).slice(0, 1 + this.rand.int(others.length));
    const outbound = chance(this.rand, 0.5);
    for (const v of victims) {
      if (outbound) this.host.net.cutOneWay(a, v);
      else this.host.net.cutOneWay(v, a);
    }
    this.stats.partitions++;
    this.partitionUntil = this.now + uniform(this.rand, 50, 1000);
    const until = this.partitionUntil;
    this.host.queue.at(until, () => {
      if (this.active && this.partitionUntil === until) this.host.net.healAll();
    });
  }

  private burst(): void {
    const net = this.host.net;
    const rates = {
      lossRate: Math.max(net.rates.lossRate, uniform(this.rand, 0.1, 0.5)),
      dupRate: Math.max(net.rates.dupRate, uniform(this.rand, 0, 0.2)),
      reorderRate: Math.max(net.rates.reorderRate, uniform(this.rand, 0, 0.3)),
    };
    net.rates = rates;
    this.stats.bursts++;
    this.note('burst', `network burst: loss ${rates.lossRate} dup ${rates.dupRate} reorder ${rates.reorderRate}`);
    this.host.queue.after(uniform(this.rand, 50, 600), () => {
      if (!this.active || net.rates !== rates) return;
      net.rates = { ...this.baseRates };
      this.note('burst', 'network burst over');
    });
  }

  private stall(): void {
    const ups = this.up();
    if (ups.length === 0) return;
    const l = this.host.leader();
    const n = l && chance(this.rand, 0.5) ? l : pick(this.rand, ups);
    const until = this.now + uniform(this.rand, 20, 400);
    n.disk.stall(until);
    this.stats.stalls++;
    this.note('stall', `disk of ${n.id} stalls until ${until.toFixed(2)}ms`);
  }

  /** A node snapshots and compacts its whole log now (followers behind it need a snapshot). */
  private compact(): void {
    const ups = this.up();
    if (ups.length === 0) return;
    const l = this.host.leader();
    const n = l && chance(this.rand, 0.6) ? l : pick(this.rand, ups);
    n.snapshotNow(0);
  }

  private transfer(): void {
    const l = this.host.leader();
    if (!l) return;
    const cs = l.raw!.status().confState;
    const targets = [...new Set([...cs.voters, ...cs.votersOutgoing])].filter((x) => x !== l.id);
    if (targets.length === 0) return;
    const to = pick(this.rand, targets);
    this.stats.transfers++;
    this.note('transfer', `asks leader ${l.id} to transfer leadership to ${to}`);
    try {
      l.transferLeader(to);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.note('transfer', `refused: ${e.code} ${e.message}`);
    }
  }

  private membership(): void {
    const l = this.host.leader();
    if (!l) return;
    const cs = l.raw!.status().confState;
    const fresh: NodeId[] = [];
    const cc = this.planChange(cs, l.id, fresh);
    if (!cc) return;
    this.stats.confChanges++;
    const text = cc.changes.length === 0 ? 'leave joint' : cc.changes.map((c) => `${c.op} ${c.node}`).join(', ');
    try {
      const id = l.raw!.proposeConfChange(cc);
      this.nextNode += fresh.length;
      for (const f of fresh) {
        this.spawned++;
        this.host.spawn(f);
      }
      l.kick();
      this.note('conf', `leader ${l.id} proposes [${text}]${cc.transition ? ` (${cc.transition})` : ''} at ${id.index}@t${id.term}; current ${formatConf(cs)}`);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.stats.confRejected++;
      this.note('conf', `leader ${l.id} refused [${text}]: ${e.code}`);
    }
  }

  private planChange(cs: ConfState, leader: NodeId, spawned: NodeId[]): ConfChange | undefined {
    if (cs.votersOutgoing.length > 0) {
      return cs.autoLeave ? undefined : { changes: [] };
    }
    const voters = [...cs.voters];
    const learners = [...cs.learners];
    const count = members(cs).length;
    const canGrow = count < Math.min(MAX_MEMBERS, this.host.initialNodes + 2) && this.spawned < 6;
    const fresh = (): NodeId => {
      const id = `n${this.nextNode + spawned.length}`;
      spawned.push(id);
      return id;
    };
    const options: [number, () => ConfChange | undefined][] = [
      [canGrow ? 3 : 0, () => ({ changes: [{ op: 'addLearner', node: fresh() }] })],
      [canGrow ? 1 : 0, () => ({ changes: [{ op: 'addVoter', node: fresh() }] })],
      [learners.length > 0 ? 3 : 0, () => ({ changes: [{ op: 'addVoter', node: pick(this.rand, learners) }] })],
      [voters.length > 1 ? 2 : 0, () => {
        // Remove a voter; the leader itself a third of the time.
        const v = chance(this.rand, 0.33) && voters.includes(leader) ? leader : pick(this.rand, voters);
        return { changes: [{ op: 'removeNode', node: v }] };
      }],
      [learners.length > 0 ? 1 : 0, () => ({ changes: [{ op: 'removeNode', node: pick(this.rand, learners) }] })],
      [voters.length > 1 ? 1 : 0, () => ({ changes: [{ op: 'addLearner', node: pick(this.rand, voters) }] })],
      [voters.length > 0 ? 2 : 0, () => this.jointChange(voters, learners, canGrow, fresh, leader)],
    ];
    const i = weighted(this.rand, options.map((o) => o[0]));
    if (options[i]![0] === 0) return undefined;
    return options[i]![1]();
  }

  /** Several voter changes at once: must go through a joint configuration. */
  private jointChange(voters: NodeId[], learners: NodeId[], canGrow: boolean, fresh: () => NodeId, leader: NodeId): ConfChange | undefined {
    const changes: ConfChangeSingle[] = [];
    if (learners.length > 0) changes.push({ op: 'addVoter', node: pick(this.rand, learners) });
    else if (canGrow) changes.push({ op: 'addVoter', node: fresh() });
    if (voters.length > 1) {
      const v = chance(this.rand, 0.3) ? leader : pick(this.rand, voters);
      changes.push({ op: chance(this.rand, 0.5) ? 'removeNode' : 'addLearner', node: v });
    }
    if (canGrow && chance(this.rand, 0.3)) changes.push({ op: 'addVoter', node: fresh() });
    if (changes.length === 0) return undefined;
    const transition = pick(this.rand, ['joint', 'joint', 'jointExplicit', 'auto'] as const);
    return { changes, transition };
  }
}
