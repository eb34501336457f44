// RaftNode: one member of one Raft group, driving the deterministic core with real storage,
// a transport and the clock. This is the path of one write, as in SOFAJRaft's NodeImpl:
//
//   apply(data) ─ checks (leader, expectedTerm, queue bound, size) ─ startTransaction ─ preAppend
//     ─ core.propose (in-memory tail) ─┐
//   next event-loop turn: one Ready ──┼─ AppendEntries to followers at once (leader traffic)
//                                     └─ one append + one fsync of everything proposed this turn
//   after the fsync: acknowledgements, advance (the leader now counts its own copy)
//   quorum ─ commit ─ applier: applySerial, apply(batch) ─ the promise of apply() resolves.
//
// Batching comes from the single thread: everything proposed before the loop runs shares one
// Ready, one fsync and one message per follower. At most one Ready is being persisted at a time;
// what arrives meanwhile forms the next batch (group commit).

import { RaftError, invariant } from '../core/errors.js';
import { type RaftOptions } from '../core/options.js';
import type { Rand } from '../core/random.js';
import { RawNode } from '../core/rawnode.js';
import {
  type ConfChange,
  type ConfState,
  type Message,
  MessageType,
  type NodeId,
  type Ready,
  Role,
  type Status,
} from '../core/types.js';
import { Applier } from './applier.js';
import { type NodeErrorCode, RaftNodeError } from './errors.js';
import type { NodeStorage } from './node-storage.js';
import { PendingProposals } from './proposals.js';
import { PendingReads } from './reads.js';
import type { StateMachine } from './state-machine.js';
import { type RequestPort, SnapshotReceiver, type SnapshotTransferOptions, sendSnapshot } from './snapshot-transfer.js';
import { sharedTicker, type Ticker } from './ticker.js';
import type { RaftTransportPort } from './transport-port.js';

export interface RaftNodeOptions<R> {
  /** This node's stable id. */
  id: NodeId;
  /** The Raft group (region) this node belongs to. Default "default". */
  groupId?: string;
  storage: NodeStorage;
  stateMachine: StateMachine<R>;
  transport: RaftTransportPort;
  /** Voters of a brand-new group; ignored when the storage already holds state. */
  initialVoters?: readonly NodeId[];
  /** Length of one tick. Default 100 ms. */
  tickMs?: number;
  /** Election timeout (randomised up to twice this). Default 1000 ms. Rounded to ticks. */
  electionTimeoutMs?: number;
  /** Heartbeat interval. Default 100 ms. Rounded to ticks. */
  heartbeatIntervalMs?: number;
  /** Bound on proposals waiting to commit (JRaft's apply queue). Beyond: BUSY. Default 10,000. */
  maxPendingProposals?: number;
  /** Largest entry accepted, checked after preAppend. Default 4 MiB. */
  maxEntryBytes?: number;
  /** A proposal or read not done in this time fails with TIMEOUT. Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** Take a snapshot after this many entries were applied since the last one; 0 = never. Default 0. */
  snapshotEveryEntries?: number;
  /** Entries kept in the log behind a snapshot for slightly lagging followers. Default 1,000. */
  snapshotMarginEntries?: number;
  /** Serve reads from the leader lease by default (needs checkQuorum). Default false. */
  leaseReads?: boolean;
  /** Options passed to the core (preVote, checkQuorum, priority, flow control). */
  raft?: Partial<Omit<RaftOptions, 'id' | 'storage' | 'random' | 'electionTicks' | 'heartbeatTicks' | 'applied'>>;
  /** Chunked InstallSnapshot: chunk size, throughput limit, retries. */
  snapshotTransfer?: SnapshotTransferOptions;
  /** Randomness for election timeouts. Default: Math.random. */
  random?: Rand;
  /** Ticker shared by the groups of this process. Default: the process-wide one for tickMs. */
  ticker?: Ticker;
}

export interface ApplyResult<R> {
  readonly term: number;
  readonly index: number;
  readonly result: R;
}

export interface NodeEvents {
  /** Role or leader changed. */
  onRoleChange?(role: Role, leader: NodeId, term: number): void;
  /** A snapshot was taken locally (index, bytes, how long saving it took). */
  onSnapshotTaken?(index: number, bytes: number, durationMs: number): void;
  /** A snapshot from the leader was installed. */
  onSnapshotInstalled?(index: number): void;
}

const mathRandom: Rand = { int: (n) => Math.floor(Math.random() * n) };

export class RaftNode<R = unknown> {
  readonly id: NodeId;
  readonly groupId: string;
  private readonly raw: RawNode;
  private readonly storage: NodeStorage;
  private readonly sm: StateMachine<R>;
  private readonly transport: RaftTransportPort;
  private readonly applier: Applier<R>;
  private readonly proposals = new PendingProposals<R>();
  private readonly reads = new PendingReads();
  private readonly ticker: Ticker;
  private readonly opts: Required<Pick<RaftNodeOptions<R>, 'maxPendingProposals' | 'maxEntryBytes' | 'requestTimeoutMs' | 'snapshotEveryEntries' | 'snapshotMarginEntries' | 'leaseReads' | 'tickMs'>>;
  private readonly events: NodeEvents = {};

  /** A Ready is being persisted; the next one waits (one outstanding Ready). */
  private persisting = false;
  private scheduled = false;
  private stopped = false;
  private failure: Error | undefined;
  private role: Role = Role.Follower;
  private leader: NodeId = '';
  private term = 0;
  private lastSnapshotIndex = 0;
  private snapshotting: Promise<void> | undefined;
  private readonly tickable = { tick: (): void => this.onTick() };
  private persistDone: Promise<void> = Promise.resolve();
  /** Peers a snapshot is being streamed to (one transfer per peer at a time). */
  private readonly snapshotsInFlight = new Set<NodeId>();
  private readonly snapshotTransfer: SnapshotTransferOptions;
  private readonly chunked: RequestPort | undefined;

  private constructor(o: RaftNodeOptions<R>, raw: RawNode, applier: Applier<R>, startSnapshotIndex: number) {
    this.id = o.id;
    this.groupId = o.groupId ?? 'default';
    this.raw = raw;
    this.storage = o.storage;
    this.sm = o.stateMachine;
    this.transport = o.transport;
    this.applier = applier;
    this.lastSnapshotIndex = startSnapshotIndex;
    this.opts = {
      maxPendingProposals: o.maxPendingProposals ?? 10_000,
      maxEntryBytes: o.maxEntryBytes ?? 4 * 1024 * 1024,
      requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
      snapshotEveryEntries: o.snapshotEveryEntries ?? 0,
      snapshotMarginEntries: o.snapshotMarginEntries ?? 1000,
      leaseReads: o.leaseReads ?? false,
      tickMs: o.tickMs ?? 100,
    };
    this.ticker = o.ticker ?? sharedTicker(this.opts.tickMs);
    this.snapshotTransfer = o.snapshotTransfer ?? {};
    const t = o.transport;
    this.chunked = t.request && t.onRequest ? (t as RequestPort) : undefined;
  }

  /** Opens (or bootstraps) the node, restores the state machine, and starts it. */
  static async start<R>(o: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    const tickMs = o.tickMs ?? 100;
    const electionTicks = Math.max(3, Math.round((o.electionTimeoutMs ?? 1000) / tickMs));
    const heartbeatTicks = Math.max(1, Math.min(electionTicks - 1, Math.round((o.heartbeatIntervalMs ?? 100) / tickMs)));
    const init = o.storage.initialState();
    const fresh = init.hardState.term === 0 && o.storage.lastIndex() === 0 && init.confState.voters.length === 0;
    if (fresh && o.initialVoters && o.initialVoters.length > 0) {
      const boot = RawNode.bootstrapState(o.initialVoters);
      o.storage.append(boot.entries);
      o.storage.setHardState(boot.hardState);
      await o.storage.sync();
    }
    // Restore the state machine from the latest snapshot unless it already holds that much.
    const snap = o.storage.snapshot();
    const smIndex = o.stateMachine.lastAppliedIndex?.() ?? 0;
    if (snap.meta.index > 0 && smIndex < snap.meta.index) {
      await o.stateMachine.loadSnapshot({ index: snap.meta.index, data: snap.data });
    }
    const raw = new RawNode({
      ...o.raft,
      id: o.id,
      storage: o.storage,
      random: o.random ?? mathRandom,
      electionTicks,
      heartbeatTicks,
    });
    // The core re-delivers every committed entry after the snapshot (membership changes must be
    // replayed); the applier skips what the state machine already holds durably.
    let node: RaftNode<R> | undefined;
    const applier = new Applier<R>(
      o.stateMachine,
      {
        applied: (entries, results) => {
          for (let i = 0; i < entries.length; i++) node!.proposals.applied(entries[i]!.index, entries[i]!.term, results[i]!);
        },
        failed: (entries, err) => {
          for (const e of entries) node!.proposals.failed(e.index, e.term, err);
        },
        progressed: (index, conf) => node!.onApplied(index, conf),
        snapshotLoaded: (index) => node!.proposals.skippedTo(index),
        fatal: (err) => node!.fail(err),
      },
      snap.meta.index,
      snap.meta.confState,
      Math.max(smIndex, snap.meta.index),
    );
    node = new RaftNode<R>(o, raw, applier, snap.meta.index);
    o.transport.register(
      node.groupId,
      (m) => node!.onMessage(m),
      (peer) => {
        node!.raw.reportUnreachable(peer);
        node!.schedule();
      },
    );
    if (node.chunked) SnapshotReceiver.of(node.chunked, node.id).register(node.groupId, (m) => node!.onMessage(m));
    node.ticker.add(node.tickable);
    node.schedule();
    return node;
  }

  // ------------------------------------------------------------------ public API

  /** Listens to role changes (for logs, metrics, the KV layer). */
  on(events: NodeEvents): void {
    Object.assign(this.events, events);
  }

  /**
   * Replicates `data` and applies it to the state machine on every node. Resolves with the
   * entry's LogId and the state machine's result once it is committed and applied here.
   * Rejects with RaftNodeError: NOT_LEADER (leader hint attached), BUSY, TERM_MISMATCH,
   * TRANSFERRING_LEADERSHIP, ENTRY_TOO_LARGE, STATE_MACHINE_ERROR, LEADER_CHANGED, TIMEOUT,
   * SHUTTING_DOWN.
   */
  async apply(req: { data: Uint8Array; expectedTerm?: number; transactionStarted?: boolean }): Promise<ApplyResult<R>> {
    this.checkRunning();
    if (!(req.data instanceof Uint8Array) || req.data.byteLength === 0) {
      throw new RaftNodeError('INVALID_ARGUMENT', 'data must be a non-empty Uint8Array');
    }
    if (this.raw.role !== Role.Leader) throw this.notLeaderError();
    if (this.proposals.size >= this.opts.maxPendingProposals) {
      throw new RaftNodeError('BUSY', `node is busy: ${this.proposals.size} proposals pending (limit ${this.opts.maxPendingProposals}); retry later`);
    }
    const data = req.transactionStarted ? req.data : this.startTransaction(req.data);
    return this.append(data, req.expectedTerm);
  }

  /**
   * Runs the state machine's startTransaction hook (leader side, before anything is logged).
   * Callers that need steps between it and the append (RaftServer: permits) call it, then
   * apply() with `transactionStarted: true`.
   * @throws RaftNodeError STATE_MACHINE_ERROR when the state machine rejects the request
   */
  startTransaction(data: Uint8Array): Uint8Array {
    if (!this.sm.startTransaction) return data;
    try {
      return this.sm.startTransaction(data) ?? data;
    } catch (err) {
      throw new RaftNodeError('STATE_MACHINE_ERROR', `state machine rejected the transaction: ${(err as Error).message}`);
    }
  }

  /** preAppend, the size check, then the in-memory append: all synchronous, so in log order. */
  private append(data: Uint8Array, expectedTerm: number | undefined): Promise<ApplyResult<R>> {
    const raw = this.raw;
    if (expectedTerm !== undefined && expectedTerm !== raw.term) {
      throw new RaftNodeError('TERM_MISMATCH', `expected term ${expectedTerm} but the term is ${raw.term}`);
    }
    if (this.sm.preAppend) {
      const index = raw.lastIndex() + 1;
      try {
        this.sm.preAppend({ index, term: raw.term, data });
      } catch (err) {
        // Ratis: a state machine that fails before the append makes the leader step down.
        raw.stepDown();
        this.schedule();
        throw new RaftNodeError('STATE_MACHINE_ERROR', `preAppend failed, leader stepped down: ${(err as Error).message}`);
      }
    }
    if (data.byteLength > this.opts.maxEntryBytes) {
      throw new RaftNodeError('ENTRY_TOO_LARGE', `entry of ${data.byteLength} bytes exceeds the limit of ${this.opts.maxEntryBytes} bytes`);
    }
    let id;
    try {
      id = raw.propose(data, expectedTerm !== undefined ? { expectedTerm } : undefined);
    } catch (err) {
      throw this.translate(err);
    }
    this.schedule();
    return this.proposals.add(id.index, id.term, Date.now() + this.opts.requestTimeoutMs);
  }

  /**
   * Linearizable read point: resolves (with the read index) once this node's state machine has
   * applied everything committed before the call. Works on followers too (via the leader).
   */
  async readIndex(opts?: { lease?: boolean }): Promise<number> {
    this.checkRunning();
    const { id, done } = this.reads.add(Date.now() + this.opts.requestTimeoutMs);
    const lease = opts?.lease ?? this.opts.leaseReads;
    this.raw.readIndex(id, lease ? { lease: true } : undefined);
    this.schedule();
    return done;
  }

  /** Membership change; resolves once the change is committed and applied here. */
  async changeMembership(cc: ConfChange): Promise<{ index: number; confState: ConfState }> {
    this.checkRunning();
    if (this.raw.role !== Role.Leader) throw this.notLeaderError();
    let id;
    try {
      id = this.raw.proposeConfChange(cc);
    } catch (err) {
      throw this.translate(err);
    }
    this.schedule();
    await this.waitEntryApplied(id.index, id.term);
    return { index: id.index, confState: this.applier.confState };
  }

  addVoter(id: NodeId): Promise<{ index: number; confState: ConfState }> {
    return this.changeMembership({ changes: [{ op: 'addVoter', node: id }] });
  }

  addLearner(id: NodeId): Promise<{ index: number; confState: ConfState }> {
    return this.changeMembership({ changes: [{ op: 'addLearner', node: id }] });
  }

  /** Promotes a learner (refused with a clear error until it has caught up). */
  promote(id: NodeId): Promise<{ index: number; confState: ConfState }> {
    return this.changeMembership({ changes: [{ op: 'addVoter', node: id }] });
  }

  removeNode(id: NodeId): Promise<{ index: number; confState: ConfState }> {
    return this.changeMembership({ changes: [{ op: 'removeNode', node: id }] });
  }

  /** Replaces the voter set (through a joint configuration). */
  changePeers(voters: readonly NodeId[], learners: readonly NodeId[] = []): Promise<{ index: number; confState: ConfState }> {
    const cur = this.raw.status().confState;
    const changes: ConfChange['changes'][number][] = [];
    for (const v of voters) if (!cur.voters.includes(v)) changes.push({ op: 'addVoter', node: v });
    for (const l of learners) if (!cur.learners.includes(l)) changes.push({ op: 'addLearner', node: l });
    for (const v of [...cur.voters, ...cur.learners]) {
      if (!voters.includes(v) && !learners.includes(v)) changes.push({ op: 'removeNode', node: v });
    }
    if (changes.length === 0) return Promise.resolve({ index: this.applier.appliedIndex, confState: this.applier.confState });
    return this.changeMembership({ changes, transition: 'joint' });
  }

  /**
   * Starts an election now instead of waiting for the election timeout (a region just split off
   * on the parent's leader store campaigns at once, as TiKV does, so it has a leader sooner).
   */
  campaign(): void {
    this.checkRunning();
    this.raw.campaign();
    this.schedule();
  }

  /** Asks leadership to move to `to`; resolves when `to` is leader, rejects after the timeout. */
  async transferLeadership(to: NodeId, timeoutMs = this.opts.requestTimeoutMs): Promise<void> {
    this.checkRunning();
    try {
      this.raw.transferLeader(to);
    } catch (err) {
      throw this.translate(err);
    }
    this.schedule();
    const deadline = Date.now() + timeoutMs;
    while (this.leader !== to) {
      if (Date.now() > deadline) throw new RaftNodeError('TIMEOUT', `leadership did not move to ${to} within ${timeoutMs} ms`);
      await sleep(this.opts.tickMs);
      this.checkRunning();
    }
  }

  /** Takes a snapshot of the state machine now and compacts the log behind it. */
  async snapshotNow(): Promise<{ index: number }> {
    this.checkRunning();
    if (!this.snapshotting) {
      this.snapshotting = this.takeSnapshot().finally(() => {
        this.snapshotting = undefined;
      });
    }
    await this.snapshotting;
    return { index: this.lastSnapshotIndex };
  }

  status(): Status & { groupId: string; appliedIndex: number; snapshotIndex: number; pendingProposals: number } {
    return {
      ...this.raw.status(),
      groupId: this.groupId,
      appliedIndex: this.applier.appliedIndex,
      snapshotIndex: this.lastSnapshotIndex,
      pendingProposals: this.proposals.size,
    };
  }

  get isLeader(): boolean {
    return this.raw.role === Role.Leader;
  }

  get leaderId(): NodeId {
    return this.raw.leader;
  }

  /** Stops the node: fails pending requests, finishes the write in progress, closes storage. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker.remove(this.tickable);
    this.transport.unregister(this.groupId);
    if (this.chunked) SnapshotReceiver.of(this.chunked, this.id).unregister(this.groupId);
    const err = new RaftNodeError('SHUTTING_DOWN', 'node is shutting down');
    this.proposals.failAll(err);
    this.reads.failAll(err);
    await this.persistDone;
    await this.applier.drained();
    await this.storage.close();
  }

  // ------------------------------------------------------------------ the loop

  private onMessage(m: Message): void {
    if (this.stopped) return;
    this.raw.step(m);
    this.schedule();
  }

  private onTick(): void {
    if (this.stopped) return;
    this.raw.tick();
    const now = Date.now();
    this.proposals.expire(now);
    this.reads.expire(now);
    this.schedule();
  }

  /** Runs the loop on the next turn of the event loop (once, however many calls). */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.runOnce();
    });
  }

  private runOnce(): void {
    if (this.stopped) return;
    if (this.persisting) {
      // The leader's fsync is running: followers can append what was proposed since.
      const early = this.raw.takeEarlyMessages();
      if (early.length > 0) this.sendAll(early);
      return;
    }
    if (!this.raw.hasReady()) return;
    const rd = this.raw.ready();
    this.persisting = true;
    this.persistDone = this.processReady(rd).then(
      () => {
        this.persisting = false;
        this.schedule();
      },
      (err: unknown) => {
        this.persisting = false;
        this.fail(err as Error);
      },
    );
  }

  private async processReady(rd: Ready): Promise<void> {
    if (rd.softState) this.onSoftState(rd.softState.role, rd.softState.leader);
    // 1. Leader traffic leaves at once: followers append while we fsync.
    this.sendAll(rd.messages);
    // 2. Persist.
    if (rd.snapshot) {
      await this.storage.installSnapshot(rd.snapshot);
      this.lastSnapshotIndex = rd.snapshot.meta.index;
      this.events.onSnapshotInstalled?.(rd.snapshot.meta.index);
    }
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.mustSync) await this.storage.sync();
    if (this.stopped) return;
    // 3. What depended on the write.
    this.sendAll(rd.messagesAfterPersist);
    // 4. Apply (asynchronously, in order) and serve reads.
    if (rd.snapshot) this.applier.enqueueSnapshot(rd.snapshot);
    this.applier.enqueueEntries(rd.committedEntries, rd.confState);
    const leaderAddr = this.transport.addressOf?.(this.raw.leader);
    for (const rs of rd.readStates) this.reads.confirmed(rs.requestId, rs.index, this.applier.appliedIndex);
    for (const f of rd.readFailures) this.reads.failed(f, leaderAddr);
    // 5. Acknowledge.
    this.raw.advance(rd);
  }

  private sendAll(msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (m.type === MessageType.Snap && this.chunked) {
        this.streamSnapshot(m);
        continue;
      }
      const ok = this.transport.send(this.groupId, m);
      if (m.type === MessageType.Snap) this.raw.reportSnapshot(m.to, ok);
      else if (!ok) this.raw.reportUnreachable(m.to);
    }
  }

  /** Streams a snapshot in chunks; the core learns the outcome when it is done. */
  private streamSnapshot(m: Message): void {
    if (this.snapshotsInFlight.has(m.to)) return;
    this.snapshotsInFlight.add(m.to);
    void sendSnapshot(this.chunked!, this.groupId, m, this.snapshotTransfer, () => this.stopped).then((ok) => {
      this.snapshotsInFlight.delete(m.to);
      if (this.stopped) return;
      this.raw.reportSnapshot(m.to, ok);
      this.schedule();
    });
  }

  private onSoftState(role: Role, leader: NodeId): void {
    const term = this.raw.term;
    const prevRole = this.role;
    const prevLeader = this.leader;
    const prevTerm = this.term;
    this.role = role;
    this.leader = leader;
    this.term = term;
    if (prevRole === Role.Leader && role !== Role.Leader) this.sm.onLeaderStop?.(prevTerm);
    if (prevRole === Role.Follower && prevLeader !== '' && (role !== Role.Follower || leader !== prevLeader)) {
      this.sm.onStopFollowing?.(prevLeader, prevTerm);
    }
    if (role === Role.Leader && prevRole !== Role.Leader) this.sm.onLeaderStart?.(term);
    if (role === Role.Follower && leader !== '' && (prevRole !== Role.Follower || leader !== prevLeader)) {
      this.sm.onStartFollowing?.(leader, term);
    }
    this.events.onRoleChange?.(role, leader, term);
  }

  private onApplied(index: number, conf: ConfState): void {
    this.reads.applied(index);
    if (conf !== this.lastConf) {
      this.lastConf = conf;
      this.sm.onConfigurationCommitted?.(conf, this.applier.confIndex);
    }
    if (this.appliedWaiters.length > 0) {
      for (const w of this.appliedWaiters) if (w.index <= index) w.done();
      this.appliedWaiters = this.appliedWaiters.filter((w) => w.index > index);
    }
    const every = this.opts.snapshotEveryEntries;
    if (every > 0 && index - this.lastSnapshotIndex >= every && !this.snapshotting && !this.stopped) {
      this.snapshotting = this.takeSnapshot()
        .catch((err: unknown) => this.sm.onError?.(err as Error))
        .finally(() => {
          this.snapshotting = undefined;
        });
    }
  }

  private lastConf: ConfState | undefined;
  private appliedWaiters: Array<{ index: number; done: () => void }> = [];

  /** Resolves once this node's state machine has applied `index` (a stale read's floor). */
  waitApplied(index: number): Promise<void> {
    this.checkRunning();
    if (this.applier.appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.appliedWaiters.push({ index, done: resolve });
      const timer = setTimeout(() => reject(new RaftNodeError('TIMEOUT', `index ${index} not applied here within ${this.opts.requestTimeoutMs} ms`)), this.opts.requestTimeoutMs);
      timer.unref();
    });
  }

  /** Resolves once the entry (index, term) is applied; rejects if another term holds the index. */
  private waitEntryApplied(index: number, term: number): Promise<void> {
    const deadline = Date.now() + this.opts.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.applier.appliedIndex >= index) {
          let t: number | undefined;
          try {
            t = this.storage.term(index);
          } catch {
            t = undefined; // compacted: it was applied; its term can no longer be checked
          }
          if (t === undefined || t === term) resolve();
          else reject(new RaftNodeError('LEADER_CHANGED', `entry ${index} of term ${term} was replaced by term ${t}`));
        }
      };
      if (this.applier.appliedIndex >= index) return check();
      this.appliedWaiters.push({ index, done: check });
      const timer = setTimeout(() => reject(new RaftNodeError('TIMEOUT', `entry ${index} not applied within ${this.opts.requestTimeoutMs} ms`)), Math.max(0, deadline - Date.now()));
      timer.unref();
    });
  }

  private async takeSnapshot(): Promise<void> {
    const started = performance.now();
    const image = await this.sm.saveSnapshot();
    const index = image.index;
    if (index <= this.lastSnapshotIndex) return;
    invariant(index <= this.applier.appliedIndex, `snapshot at ${index} beyond applied ${this.applier.appliedIndex}`);
    const term = this.storage.term(index);
    const confState = this.applier.confState;
    const compactIndex = Math.max(this.storage.firstIndex() - 1, index - this.opts.snapshotMarginEntries);
    await this.storage.saveSnapshot({ meta: { index, term, confState }, data: image.data }, Math.min(index, compactIndex));
    this.lastSnapshotIndex = index;
    this.events.onSnapshotTaken?.(index, image.data.byteLength, performance.now() - started);
  }

  // ------------------------------------------------------------------ errors

  private checkRunning(): void {
    if (this.failure) throw new RaftNodeError('STORAGE_ERROR', `node failed: ${this.failure.message}`);
    if (this.stopped) throw new RaftNodeError('SHUTTING_DOWN', 'node is stopped');
  }

  /** The NOT_LEADER error for a request this node cannot serve, with the leader's id and address. */
  notLeaderError(): RaftNodeError {
    const leader = this.raw.leader;
    const address = leader ? this.transport.addressOf?.(leader) : undefined;
    return new RaftNodeError('NOT_LEADER', leader ? `not the leader; the leader is ${leader}${address ? ` at ${address}` : ''}` : 'not the leader; no leader is known yet', { id: leader, address });
  }

  private translate(err: unknown): Error {
    if (!(err instanceof RaftError)) return err as Error;
    const map: Partial<Record<RaftError['code'], NodeErrorCode>> = {
      NOT_LEADER: 'NOT_LEADER',
      PROPOSAL_DROPPED: 'NOT_LEADER',
      BUSY: 'BUSY',
      TERM_MISMATCH: 'TERM_MISMATCH',
      TRANSFERRING_LEADERSHIP: 'TRANSFERRING_LEADERSHIP',
      CONF_CHANGE_PENDING: 'CONF_CHANGE_PENDING',
      INVALID_CONF_CHANGE: 'INVALID_ARGUMENT',
      LEARNER_NOT_CAUGHT_UP: 'BUSY',
    };
    const code = map[err.code];
    if (!code) return err;
    if (code === 'NOT_LEADER') return this.notLeaderError();
    return new RaftNodeError(code, err.message);
  }

  /** A storage or state-machine failure: the node stops serving rather than risk safety. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.sm.onError?.(err);
    const e = new RaftNodeError('STORAGE_ERROR', `node ${this.id} failed: ${err.message}`);
    this.proposals.failAll(e);
    this.reads.failAll(e);
    this.stopped = true;
    this.ticker.remove(this.tickable);
    this.transport.unregister(this.groupId);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
