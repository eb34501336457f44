// A simulated cluster: the nodes, the network between them, the clients, the nemesis and the
// checker, all on one virtual clock. It also tracks the committed membership (to shut down
// nodes once their removal is committed) and decides when the cluster has converged.

import { type ConfState, type Message, MessageType, type NodeId, Role } from '../raft/core/types.js';
import { Checker, SimViolation } from './checker.js';
import { EventQueue } from './event-queue.js';
import { hex } from './hash.js';
import { Nemesis } from './nemesis.js';
import { Network } from './network.js';
import { type LeaderEvent, type NodeEnv, type PendingProposal, type ReadOutcome, SimNode, formatConf, members } from './node-host.js';
import { type Profile, type SimOptions, drawProfile } from './options.js';
import { type SimRand, stream, uniform } from './rng.js';
import { Trace } from './trace.js';
import { Workload } from './workload.js';

export class Cluster implements NodeEnv {
  readonly queue = new EventQueue();
  readonly trace: Trace;
  readonly checker = new Checker();
  readonly profile: Profile;
  readonly net: Network;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly workload: Workload;
  readonly nemesis: Nemesis;
  /** Proposals appended somewhere and not yet resolved. */
  readonly pending = new Set<PendingProposal>();
  /** The newest committed membership seen (by log index). */
  private conf: { index: number; cs: ConfState };
  private readonly everMember = new Set<NodeId>();
  /** Removed nodes whose shutdown is scheduled. */
  private readonly removing = new Set<NodeId>();
  private readonly rand: SimRand;
  readonly initialNodes: number;
  readonly stats = { confChangesApplied: 0, decommissioned: 0 };

  constructor(readonly options: SimOptions) {
    if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 7) {
      throw new Error(`nodes must be an integer in 1..7 (got ${options.nodes})`);
    }
    this.profile = drawProfile(options);
    this.trace = new Trace(this.queue, options.traceSize);
    this.rand = stream(options.seed, 'cluster');
    this.initialNodes = options.nodes;
    const p = this.profile;
    this.net = new Network(
      this.queue,
      stream(options.seed, 'network'),
      this.trace,
      {
        isUp: (id) => this.nodes.get(id)?.up === true,
        deliver: (m) => this.deliver(m),
        dropped: (m, reason) => this.dropped(m, reason),
      },
      { minMs: p.netMinMs, maxMs: p.netMaxMs, reorderMaxMs: p.reorderMaxMs },
    );
    const voters: NodeId[] = [];
    for (let i = 1; i <= options.nodes; i++) voters.push(`n${i}`);
    for (const id of voters) {
      this.nodes.set(id, new SimNode(id, this, voters));
      this.everMember.add(id);
    }
    this.conf = { index: 0, cs: this.nodes.get(voters[0]!)!.confState };
    this.checker.stateMachineOf = (id) => this.nodes.get(id)?.sm;
    this.workload = new Workload(
      {
        queue: this.queue,
        trace: this.trace,
        contactable: () => [...this.nodes.values()].filter((n) => !n.decommissioned),
        node: (id) => this.nodes.get(id),
      },
      stream(options.seed, 'workload'),
      p,
    );
    this.nemesis = new Nemesis(
      {
        queue: this.queue,
        trace: this.trace,
        net: this.net,
        allNodes: () => [...this.nodes.values()],
        leader: () => this.leader(),
        crash: (id) => this.crash(id),
        restart: (id) => this.restart(id),
        spawn: (id) => this.spawn(id),
        initialNodes: options.nodes,
      },
      stream(options.seed, 'nemesis'),
      p,
      { lossRate: p.lossRate, dupRate: p.dupRate, reorderRate: p.reorderRate },
    );
  }

  get now(): number {
    return this.queue.now;
  }

  // ------------------------------------------------------------------ NodeEnv

  send(m: Message): void {
    this.net.send(m);
  }

  onConfState(_node: NodeId, cs: ConfState, index: number): void {
    if (index <= this.conf.index) return;
    this.conf = { index, cs };
    this.stats.confChangesApplied++;
    const ms = new Set(members(cs));
    for (const id of ms) this.everMember.add(id);
    for (const n of this.nodes.values()) {
      if (n.decommissioned || ms.has(n.id) || !this.everMember.has(n.id) || this.removing.has(n.id)) continue;
      this.removing.add(n.id);
      // Its removal is committed: an operator shuts it down a little later.
      const delay = uniform(this.rand, 50, 500);
      this.trace.add(n.id, 'removed', `removal committed (index ${index}); shutting down in ${delay}ms`);
      const stop = (): void => {
        if (n.decommissioned) return;
        // A careful operator first waits until the remaining members have applied the removal.
        if (this.profile.decommission === 'after-catch-up' && this.memberNodes().some((m) => !m.up || m.sm.applied < index)) {
          this.queue.after(50, stop);
          return;
        }
        this.stats.decommissioned++;
        n.decommission();
      };
      this.queue.after(delay, stop);
    }
  }

  onLeaderEvent(node: NodeId, what: LeaderEvent): void {
    this.nemesis.onLeaderEvent(node, what);
  }

  onProposed(p: PendingProposal): void {
    this.pending.add(p);
  }

  onProposalResolved(p: PendingProposal): void {
    this.pending.delete(p);
  }

  // ------------------------------------------------------------------ network hooks

  private deliver(m: Message): void {
    const n = this.nodes.get(m.to);
    if (!n) return;
    n.deliver(m);
    if (m.type === MessageType.Snap) {
      // The transfer finished: the sender's runtime reports success.
      this.queue.after(uniform(this.rand, 0.1, 1), () => this.nodes.get(m.from)?.reportSnapshot(m.to, true));
    }
  }

  private dropped(m: Message, reason: 'loss' | 'partition' | 'down'): void {
    const from = this.nodes.get(m.from);
    if (!from) return;
    if (m.type === MessageType.Snap) {
      this.queue.after(uniform(this.rand, 5, 50), () => from.reportSnapshot(m.to, false));
    }
    if (!this.profile.silentLoss) {
      // Connection-oriented transport: a lost message means a broken connection, which both
      // ends notice and report (a peer that is down only its sender notices).
      this.queue.after(uniform(this.rand, 1, 20), () => from.reportUnreachable(m.to));
      const to = this.nodes.get(m.to);
      if (to && reason !== 'down') this.queue.after(uniform(this.rand, 1, 20), () => to.reportUnreachable(m.from));
    }
  }

  // ------------------------------------------------------------------ control

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  startAll(): void {
    for (const n of this.nodes.values()) n.start();
  }

  crash(id: NodeId): void {
    this.node(id).crash();
  }

  restart(id: NodeId): void {
    this.node(id).start();
  }

  spawn(id: NodeId): SimNode {
    const n = new SimNode(id, this);
    this.nodes.set(id, n);
    n.start();
    return n;
  }

  /** The running leader with the highest term. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.up && n.role === Role.Leader && (!best || n.term > best.term)) best = n;
    }
    return best;
  }

  committedConf(): ConfState {
    return this.conf.cs;
  }

  /** Running members of the latest committed configuration. */
  memberNodes(): SimNode[] {
    return members(this.conf.cs)
      .map((id) => this.nodes.get(id))
      .filter((n): n is SimNode => n !== undefined);
  }

  /** Proposes a client write directly (demo and tests). */
  proposeWrite(nodeId: NodeId, id: number, key: string, done: (ok: boolean) => void): boolean {
    const n = this.node(nodeId);
    try {
      n.propose({ id, key }, (o) => done(o.kind === 'ack'));
      return true;
    } catch {
      return false;
    }
  }

  // ------------------------------------------------------------------ phases

  /** Runs virtual time forward, wrapping core exceptions as violations. */
  runUntil(t: number, stop?: () => boolean): boolean {
    try {
      return this.queue.runUntil(t, stop);
    } catch (e) {
      if (e instanceof SimViolation) throw e;
      const err = e as Error;
      throw new SimViolation('core-error', `exception at ${this.now.toFixed(2)}ms: ${err.stack ?? String(err)}`);
    }
  }

  /** Why the cluster has not converged yet, or undefined when it has. */
  notConverged(): string | undefined {
    const ms = this.memberNodes();
    if (ms.length === 0) return 'no members';
    for (const id of members(this.conf.cs)) {
      const n = this.nodes.get(id);
      if (!n) return `member ${id} does not exist`;
      if (!n.up) return `member ${id} is down`;
    }
    const leaders = [...this.nodes.values()].filter((n) => n.up && n.role === Role.Leader);
    if (leaders.length !== 1) return leaders.length === 0 ? 'no leader' : `${leaders.length} nodes think they lead`;
    const l = leaders[0]!;
    const st = l.raw!.status();
    if (st.commit !== st.lastIndex) return `leader ${l.id} has uncommitted entries (commit ${st.commit}, last ${st.lastIndex})`;
    if (this.pending.size > 0) return `${this.pending.size} proposals pending`;
    for (const n of ms) {
      if (n.sm.applied !== st.commit) return `${n.id} applied ${n.sm.applied}, leader commit ${st.commit}`;
      if (n.sm.chain !== l.sm.chain) return `${n.id} state differs from the leader's`;
    }
    return undefined;
  }

  /**
   * Liveness phase: with every fault healed, keep the clients going until every proposal made
   * before the heal is resolved, then stop them and wait for the members to converge.
   */
  settle(deadline: number): void {
    const preHeal = new Set(this.pending);
    let why: string | undefined = 'not checked';
    let filler: PendingProposal | undefined;
    while (this.now < deadline) {
      this.runUntil(Math.min(deadline, this.now + 20));
      if (this.workload.running) {
        for (const p of preHeal) if (!this.pending.has(p)) preHeal.delete(p);
        if (preHeal.size === 0) {
          this.workload.stop();
          this.trace.add('sim', 'settle', 'every proposal made before the heal is resolved; clients stop');
        }
        continue;
      }
      why = this.notConverged();
      if (why === undefined) return;
      // A proposal appended by a deposed leader resolves only once the log grows past its
      // index: keep appending small writes through the leader while any is pending.
      const l = this.leader();
      if (l && this.pending.size > 0 && (!filler || !this.pending.has(filler) || filler.node !== l.id || filler.term !== l.term)) {
        {
          const w = { id: this.workload.nextWriteId(), key: 'k0' };
          try {
            l.propose(w, () => {});
            filler = [...this.pending].find((p) => p.write.id === w.id);
            this.trace.add(l.id, 'filler', `write ${w.id} so that pending proposals resolve`);
          } catch {
            // not leader after all, or busy: try again next round
          }
        }
      }
    }
    if (this.workload.running) {
      const ex = [...preHeal].slice(0, 3).map((p) => `write ${p.write.id} at ${p.index}@t${p.term} on ${p.node}`);
      why = `${preHeal.size} proposals from before the heal never resolved (${ex.join(', ')}); ${this.notConverged() ?? 'otherwise converged'}`;
    }
    throw new SimViolation('liveness', `no convergence ${this.options.settleMs}ms after the heal: ${why}\n${this.describe()}`);
  }

  /**
   * After convergence, a linearizable read on every member must succeed (retried like a client
   * would: a forwarded read is dropped if leadership moves meanwhile).
   */
  finalReads(deadline: number): void {
    const ms = this.memberNodes();
    const ok = new Set<NodeId>();
    const last = new Map<NodeId, string>();
    let attempt = 0;
    const tryRead = (n: SimNode): void => {
      if (ok.has(n.id) || this.now >= deadline) return;
      const reqId = `final-${n.id}-${++attempt}`;
      let settled = false;
      n.read(reqId, 'k0', false, (o: ReadOutcome) => {
        if (settled) return;
        settled = true;
        if (o.kind === 'ok') ok.add(n.id);
        else {
          last.set(n.id, JSON.stringify(o));
          this.queue.after(10, () => tryRead(n));
        }
      });
      this.queue.after(300, () => {
        if (settled) return;
        settled = true;
        n.forgetRead(reqId);
        last.set(n.id, 'timed out');
        tryRead(n);
      });
    };
    for (const n of ms) tryRead(n);
    this.runUntil(deadline, () => ok.size === ms.length);
    for (const n of ms) {
      if (!ok.has(n.id)) {
        throw new SimViolation('liveness', `a read on ${n.id} never succeeded after convergence (last attempt: ${last.get(n.id) ?? 'none'})\n${this.describe()}`);
      }
    }
  }

  finalChecks(): void {
    this.checker.finalWrites(this.memberNodes());
  }

  /** One line per node: what a person needs to see to understand a stuck cluster. */
  describe(): string {
    const lines = [`committed membership (index ${this.conf.index}): ${formatConf(this.conf.cs)}`];
    for (const n of this.nodes.values()) {
      const hs = n.storage.getHardState();
      let s = `  ${n.id}: ${n.decommissioned ? 'decommissioned' : n.up ? 'up' : 'DOWN'}`;
      if (n.up) {
        const st = n.raw!.status();
        s += ` ${st.role} term ${st.term} leader '${st.leader}' commit ${st.commit} applied ${n.sm.applied} last ${st.lastIndex} ${formatConf(st.confState)}`;
        if (st.leadTransferee) s += ` transferring to ${st.leadTransferee}`;
        if (n.busy) s += ' (write outstanding)';
      }
      s += ` | durable hs(t${hs.term} vote '${hs.vote}' c${hs.commit}) log [${n.storage.firstIndex()}..${n.storage.lastIndex()}] state ${hex(n.sm.chain)}`;
      if (n.pendingProposals > 0) s += ` | ${n.pendingProposals} pending proposals`;
      lines.push(s);
    }
    lines.push(`  network: ${this.net.cutLinks} links cut`);
    return lines.join('\n');
  }
}
