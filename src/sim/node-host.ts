// One simulated node: a RawNode over a "durable" MemoryStorage, a volatile state machine, and the
// runtime loop that processes Readies the way the real runtime does:
//
//   take a Ready (only when none is outstanding) -> send `messages` at once -> write hardState,
//   snapshot and entries to the durable storage after a virtual disk latency -> send
//   `messagesAfterPersist` -> apply `committedEntries` -> serve reads -> advance().
//
// A crash throws away everything but the durable storage (and, with torn writes, may leave a
// prefix of the outstanding write's entries behind). A restart builds a new RawNode over the
// durable storage and rebuilds the state machine from the snapshot plus the re-applied log.

import { RaftError } from '../raft/core/errors.js';
import { MemoryStorage } from '../raft/core/memory-storage.js';
import { RawNode } from '../raft/core/rawnode.js';
import {
  type ConfState,
  type Entry,
  EntryType,
  type LogId,
  type Message,
  type NodeId,
  type Ready,
  type ReadFailure,
  Role,
} from '../raft/core/types.js';
import type { Checker } from './checker.js';
import { Disk } from './disk.js';
import type { EventQueue } from './event-queue.js';
import type { Profile, SimOptions } from './options.js';
import { type SimRand, chance, stream, uniform } from './rng.js';
import { KvStateMachine, type KvValue, type Write, encodeWrite } from './state-machine.js';
import { type Trace, formatEntries } from './trace.js';

export type ProposalOutcome =
  | { readonly kind: 'ack'; readonly index: number; readonly term: number }
  /** A different entry was committed at the proposal's index: it definitely failed. */
  | { readonly kind: 'lost'; readonly index: number }
  /** The node forgot the proposal (crash, removal, snapshot): it may or may not commit. */
  | { readonly kind: 'unknown'; readonly reason: string };

export interface PendingProposal {
  readonly write: Write;
  readonly index: number;
  readonly term: number;
  readonly node: NodeId;
  readonly issuedAt: number;
  readonly done: (o: ProposalOutcome) => void;
}

export type ReadOutcome =
  | { readonly kind: 'ok'; readonly value: KvValue | undefined; readonly readIndex: number }
  | { readonly kind: 'failed'; readonly code: ReadFailure['code']; readonly leader: NodeId }
  | { readonly kind: 'unknown'; readonly reason: string };

interface PendingRead {
  readonly reqId: string;
  readonly key: string;
  readonly lease: boolean;
  /** The version the read must at least see (writes acknowledged before it began). */
  readonly floor: number;
  /** Read point, once the core answered. */
  readIndex: number;
  readonly done: (o: ReadOutcome) => void;
}

/** Moments of a leader's life that targeted faults react to. */
export type LeaderEvent = 'elected' | 'applied' | 'applied-old';

/** What a node needs from the cluster around it. */
export interface NodeEnv {
  readonly queue: EventQueue;
  readonly trace: Trace;
  readonly checker: Checker;
  readonly options: SimOptions;
  readonly profile: Profile;
  send(m: Message): void;
  /** A Ready carried a new membership, valid as of log index `index` (committed). */
  onConfState(node: NodeId, cs: ConfState, index: number): void;
  /** Notable moments of a leader (fault injection may react to them). */
  onLeaderEvent(node: NodeId, what: LeaderEvent): void;
  /** A proposal was appended on this node. */
  onProposed(p: PendingProposal): void;
  /** A proposal of this node was resolved (any outcome). */
  onProposalResolved(p: PendingProposal): void;
}

export class SimNode {
  /** The durable state: survives crashes. */
  readonly storage = new MemoryStorage();
  readonly disk: Disk;
  up = false;
  /** Removed from the cluster and shut down for good. */
  decommissioned = false;
  incarnation = 0;
  raw: RawNode | undefined;
  sm = new KvStateMachine();
  /** Membership as of sm.applied (for snapshots). */
  confState: ConfState;
  role: Role = Role.Follower;
  leader: NodeId = '';
  term = 0;
  private outstanding: Ready | undefined;
  /** Proposals awaiting their index to be applied, by index. */
  private readonly proposals = new Map<number, PendingProposal[]>();
  private readonly reads = new Map<string, PendingRead>();
  /** Reads answered by the core, waiting for the state machine to reach their index. */
  private answered: PendingRead[] = [];
  /** Term whose leader-completeness check runs when the current write completes. */
  private leaderCheckTerm = 0;
  private readonly rand: SimRand;
  private dropHookDone = false;
  readonly stats = { readies: 0, writes: 0, snapshots: 0, installs: 0, crashes: 0, torn: 0 };

  constructor(
    readonly id: NodeId,
    private readonly env: NodeEnv,
    bootstrapVoters?: readonly NodeId[],
  ) {
    const p = env.profile;
    this.disk = new Disk(stream(env.options.seed, 'disk', id), { minMs: p.diskMinMs, maxMs: p.diskMaxMs, slowRate: p.slowDiskRate });
    this.rand = stream(env.options.seed, 'host', id);
    if (bootstrapVoters) RawNode.bootstrap(this.storage, bootstrapVoters);
    this.confState = this.storage.initialState().confState;
  }

  private get now(): number {
    return this.env.queue.now;
  }

  private trace(kind: string, text: string | (() => string), ...hashParts: number[]): void {
    this.env.trace.add(this.id, kind, text, ...hashParts);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Starts (or restarts) the node over its durable storage. */
  start(): void {
    if (this.up || this.decommissioned) return;
    this.incarnation++;
    const p = this.env.profile;
    const snap = this.storage.snapshot();
    this.sm = KvStateMachine.restore(snap.data, snap.meta.index, snap.meta.term);
    this.confState = snap.meta.confState;
    this.env.checker.onRestore(this.id, snap.meta.index, snap.meta.term, this.sm);
    this.role = Role.Follower;
    this.leader = '';
    this.term = this.storage.getHardState().term;
    this.raw = new RawNode({
      id: this.id,
      storage: this.storage,
      random: stream(this.env.options.seed, 'raft', this.id, this.incarnation),
      electionTicks: p.electionTicks,
      heartbeatTicks: p.heartbeatTicks,
      preVote: p.preVote,
      checkQuorum: p.checkQuorum,
      maxSizePerMsgBytes: p.maxSizePerMsgBytes,
      maxInflightMsgs: p.maxInflightMsgs,
      maxUncommittedEntriesBytes: p.maxUncommittedEntriesBytes,
      unsafeCommitPreviousTerm: this.env.options.unsafeCommitPreviousTerm,
      // The state machine was rebuilt from the snapshot: it has applied exactly its index. Some
      // runtimes say so, others rely on the documented default (the snapshot index).
      ...(p.passApplied ? { applied: snap.meta.index } : {}),
    });
    this.up = true;
    const hs = this.storage.getHardState();
    this.trace(
      this.incarnation === 1 ? 'start' : 'restart',
      `${this.incarnation === 1 ? 'started' : `restarted (incarnation ${this.incarnation})`}: term ${hs.term} vote '${hs.vote}' commit ${hs.commit}, log [${this.storage.firstIndex()}..${this.storage.lastIndex()}], snapshot @${snap.meta.index}`,
    );
    // Ticks, with a per-incarnation phase offset.
    const inc = this.incarnation;
    const tickMs = p.tickMs;
    const loop = (): void => {
      if (!this.up || this.incarnation !== inc) return;
      this.raw!.tick();
      this.kick();
      this.env.queue.after(tickMs, loop);
    };
    this.env.queue.after(uniform(this.rand, 0.01, tickMs), loop);
    this.kick();
  }

  /** Loses everything volatile. With torn writes, part of the outstanding write may survive. */
  crash(reason = 'crashed'): void {
    if (!this.up) return;
    const rd = this.outstanding;
    let torn = '';
    if (rd && this.env.profile.tornWrites && !rd.snapshot && rd.entries.length > 1 && chance(this.rand, 0.5)) {
      // The write was cut short: a prefix of its entries reached the disk, the hard state did not.
      const k = 1 + this.rand.int(rd.entries.length - 1);
      const part = rd.entries.slice(0, k);
      this.storage.append(part);
      this.env.checker.onDurableEntries(this.id, this.storage, part);
      torn = ` (torn write: ${k}/${rd.entries.length} entries ${formatEntries(part)} reached the disk)`;
      this.stats.torn++;
    } else if (rd && (rd.hardState || rd.snapshot || rd.entries.length > 0)) {
      torn = ' (its pending write is lost)';
    }
    this.up = false;
    this.raw = undefined;
    this.outstanding = undefined;
    this.leaderCheckTerm = 0;
    this.role = Role.Follower;
    this.leader = '';
    this.stats.crashes++;
    this.trace('crash', `${reason}${torn}`);
    this.forgetClients(reason);
  }

  /** Removed from the configuration: shut down for good. */
  decommission(): void {
    this.crash('decommissioned (removed from the cluster)');
    this.decommissioned = true;
  }

  private forgetClients(reason: string): void {
    const props = [...this.proposals.values()].flat();
    this.proposals.clear();
    for (const p of props) this.resolve(p, { kind: 'unknown', reason });
    const reads = [...this.reads.values()];
    this.reads.clear();
    this.answered = [];
    for (const r of reads) r.done({ kind: 'unknown', reason });
  }

  // ------------------------------------------------------------------ inputs

  deliver(m: Message): void {
    if (!this.up) return;
    this.raw!.step(m);
    this.kick();
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    if (!this.up) return;
    this.raw!.reportSnapshot(to, ok);
    this.kick();
  }

  reportUnreachable(to: NodeId): void {
    if (!this.up) return;
    this.raw!.reportUnreachable(to);
    this.kick();
  }

  /** Proposes a client write. Throws RaftError (NOT_LEADER, BUSY, ...) like the core. */
  propose(write: Write, done: (o: ProposalOutcome) => void): LogId {
    if (!this.up) throw new RaftError('PROPOSAL_DROPPED', `${this.id} is down`);
    const id = this.raw!.propose(encodeWrite(write));
    const p: PendingProposal = { write, index: id.index, term: id.term, node: this.id, issuedAt: this.now, done };
    let list = this.proposals.get(id.index);
    if (!list) {
      list = [];
      this.proposals.set(id.index, list);
    }
    list.push(p);
    this.env.onProposed(p);
    this.trace('propose', `write ${write.id} (set ${write.key}) -> ${id.index}@t${id.term}`, write.id, id.index, id.term);
    this.kick();
    return id;
  }

  /** Starts a linearizable read of `key`. The outcome is reported through `done`. */
  read(reqId: string, key: string, lease: boolean, done: (o: ReadOutcome) => void): void {
    if (!this.up) {
      done({ kind: 'unknown', reason: 'down' });
      return;
    }
    const floor = this.env.checker.readFloor(key);
    this.reads.set(reqId, { reqId, key, lease, floor, readIndex: 0, done });
    this.trace('read', `${reqId}: read ${key}${lease ? ' (lease)' : ''}, must see version >= ${floor}`, floor);
    this.raw!.readIndex(reqId, lease ? { lease: true } : undefined);
    this.kick();
  }

  /** The client gave up on a read. */
  forgetRead(reqId: string): void {
    this.reads.delete(reqId);
    this.answered = this.answered.filter((r) => r.reqId !== reqId);
  }

  transferLeader(to: NodeId): void {
    if (!this.up) return;
    this.raw!.transferLeader(to);
    this.kick();
  }

  campaign(): void {
    if (!this.up) return;
    this.raw!.campaign();
    this.kick();
  }

  get pendingProposals(): number {
    let n = 0;
    for (const l of this.proposals.values()) n += l.length;
    return n;
  }

  get busy(): boolean {
    return this.outstanding !== undefined;
  }

  // ------------------------------------------------------------------ the Ready loop

  /** Takes and processes Readies while there are any and none is outstanding. */
  kick(): void {
    while (this.up && this.outstanding === undefined && this.raw!.hasReady()) {
      this.handleReady(this.raw!.ready());
    }
    if (this.up && this.outstanding !== undefined) {
      // As the runtime does: while the write is in progress, the leader's replication traffic
      // for what was proposed since may already leave.
      const hs = this.storage.getHardState();
      for (const m of this.raw!.takeEarlyMessages()) {
        this.env.checker.onSend(this.id, m, hs, this.storage, false);
        this.env.send(m);
      }
    }
  }

  private handleReady(rd: Ready): void {
    this.outstanding = rd;
    this.stats.readies++;
    const ck = this.env.checker;
    if (rd.hardState) this.term = rd.hardState.term;
    if (rd.softState) {
      const s = rd.softState;
      const was = this.role;
      this.role = s.role;
      this.leader = s.leader;
      const term = this.raw!.status().term;
      this.term = term;
      if (s.role !== was || s.role === Role.Leader) {
        this.trace('role', `${was} -> ${s.role} in term ${term}${s.leader ? ` (leader ${s.leader})` : ''}`, term);
      }
      if (s.role === Role.Leader && was !== Role.Leader) {
        ck.onLeader(this.id, term);
        this.leaderCheckTerm = term;
        this.env.onLeaderEvent(this.id, 'elected');
      }
    }
    const hs = this.storage.getHardState();
    for (const m of rd.messages) {
      ck.onSend(this.id, m, hs, this.storage, false);
      this.env.send(m);
    }
    if (rd.hardState || rd.snapshot || rd.entries.length > 0) {
      const done = this.disk.completion(this.now, rd.mustSync);
      const inc = this.incarnation;
      this.stats.writes++;
      this.trace('persist', () => describeWrite(rd) + ` (until ${done.toFixed(2)}ms)`, rd.entries.length, rd.hardState?.term ?? -1, rd.hardState?.commit ?? -1);
      this.env.queue.at(done, () => {
        if (!this.up || this.incarnation !== inc || this.outstanding !== rd) return;
        this.persisted(rd);
        this.kick();
      });
    } else {
      this.persisted(rd);
    }
  }

  /** The Ready's write is durable: finish processing it. */
  private persisted(rd: Ready): void {
    const ck = this.env.checker;
    const st = this.storage;
    if (rd.snapshot) st.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      st.append(rd.entries);
      ck.onDurableEntries(this.id, st, rd.entries);
    }
    if (rd.hardState) {
      st.setHardState(rd.hardState);
      ck.onDurableCommit(this.id, st, rd.hardState.commit, rd.hardState.term);
    }
    if (this.leaderCheckTerm !== 0) {
      ck.checkLeaderCompleteness(this.id, this.leaderCheckTerm, st, this.raw!.status().lastIndex);
      this.leaderCheckTerm = 0;
    }
    const hs = st.getHardState();
    for (const m of rd.messagesAfterPersist) {
      ck.onSend(this.id, m, hs, st, true);
      this.env.send(m);
    }
    if (rd.snapshot) this.installSnapshot(rd);
    if (rd.committedEntries.length > 0) {
      this.applyEntries(rd.committedEntries);
      if (this.role === Role.Leader) {
        // Committing entries of earlier terms is where the Figure 8 rule matters.
        const old = rd.committedEntries.some((e) => e.term < this.term);
        this.env.onLeaderEvent(this.id, old ? 'applied-old' : 'applied');
      }
    }
    if (rd.confState) {
      this.confState = rd.confState;
      const idx = rd.committedEntries.length > 0 ? rd.committedEntries[rd.committedEntries.length - 1]!.index : (rd.snapshot?.meta.index ?? this.sm.applied);
      this.trace('conf', `membership ${formatConf(rd.confState)} (as of index ${idx})`, idx);
      this.env.checker.onConfState(this.id, idx, rd.confState);
      this.env.onConfState(this.id, rd.confState, idx);
    }
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.requestId);
      if (!r) continue;
      r.readIndex = rs.index;
      this.answered.push(r);
    }
    for (const f of rd.readFailures) {
      const r = this.reads.get(f.requestId);
      if (!r) continue;
      this.reads.delete(f.requestId);
      this.trace('read-fail', `${r.reqId}: ${f.code}${f.leader ? ` (leader ${f.leader})` : ''}`);
      r.done({ kind: 'failed', code: f.code, leader: f.leader });
    }
    this.serveReads();
    this.raw!.advance(rd);
    this.outstanding = undefined;
    this.maybeSnapshot();
  }

  private installSnapshot(rd: Ready): void {
    const snap = rd.snapshot!;
    this.sm = KvStateMachine.restore(snap.data, snap.meta.index, snap.meta.term);
    this.confState = snap.meta.confState;
    this.stats.installs++;
    this.trace('install', `installed snapshot @${snap.meta.index}/t${snap.meta.term} (${snap.data.length} bytes)`, snap.meta.index, snap.meta.term);
    this.env.checker.onRestore(this.id, snap.meta.index, snap.meta.term, this.sm);
    // Proposals at or below the snapshot index are no longer applied one by one here.
    for (const [idx, list] of [...this.proposals]) {
      if (idx > snap.meta.index) continue;
      this.proposals.delete(idx);
      for (const p of list) this.resolve(p, { kind: 'unknown', reason: `covered by a snapshot at ${snap.meta.index}` });
    }
  }

  private applyEntries(ents: readonly Entry[]): void {
    const ck = this.env.checker;
    const hook = this.env.options.dropAppliedEntry;
    for (const e of ents) {
      ck.beforeApply(this.id, e, this.sm.applied + 1, this.term);
      if (
        hook &&
        !this.dropHookDone &&
        hook.node === this.id &&
        e.index >= hook.index &&
        e.type === EntryType.Normal &&
        e.data.length > 0
      ) {
        // Test hook: a buggy runtime that loses one applied write.
        this.dropHookDone = true;
        this.sm.skip(e);
        this.trace('hook', `TEST HOOK: dropped applied entry ${e.index}@t${e.term}`);
      } else {
        this.sm.apply(e);
      }
      const list = this.proposals.get(e.index);
      if (list) {
        this.proposals.delete(e.index);
        for (const p of list) {
          if (p.term === e.term) {
            this.resolve(p, { kind: 'ack', index: e.index, term: e.term });
          } else {
            this.resolve(p, { kind: 'lost', index: e.index });
          }
        }
      }
      ck.afterApply(this.id, e.index, this.sm);
    }
    const a = ents[0]!;
    const b = ents[ents.length - 1]!;
    this.trace('apply', `applied ${formatEntries(ents)}`, a.index, b.index);
  }

  private resolve(p: PendingProposal, o: ProposalOutcome): void {
    if (o.kind === 'ack') {
      this.env.checker.onAck({ id: p.write.id, key: p.write.key, index: o.index, term: o.term, node: this.id, time: this.now });
      this.trace('ack', `write ${p.write.id} committed at ${o.index}@t${o.term}: acknowledged`, p.write.id);
    } else if (o.kind === 'lost') {
      this.trace('lost', `write ${p.write.id} (${p.index}@t${p.term}) lost: another entry committed at ${o.index}`, p.write.id);
    }
    this.env.onProposalResolved(p);
    p.done(o);
  }

  private serveReads(): void {
    if (this.answered.length === 0) return;
    const keep: PendingRead[] = [];
    for (const r of this.answered) {
      if (r.readIndex > this.sm.applied) {
        keep.push(r);
        continue;
      }
      this.reads.delete(r.reqId);
      const v = this.sm.read(r.key);
      this.env.checker.onRead(this.id, r.reqId, r.key, r.floor, v, r.readIndex, r.lease);
      this.trace('read-ok', `${r.reqId}: ${r.key} = ${v ? `write ${v.id} (version ${v.index})` : 'unset'} at read index ${r.readIndex}`, v?.index ?? 0);
      r.done({ kind: 'ok', value: v, readIndex: r.readIndex });
    }
    this.answered = keep;
  }

  /** Snapshot + compaction once enough was applied since the last snapshot. */
  private maybeSnapshot(): void {
    const applied = this.sm.applied;
    if (applied - this.storage.snapshot().meta.index >= this.env.profile.snapshotEvery) this.snapshotNow(this.env.profile.compactMargin);
  }

  /**
   * Snapshots the state machine at its applied index and compacts the log up to `margin`
   * entries below it. Only between Readies (the snapshot must describe applied state).
   */
  snapshotNow(margin: number): boolean {
    const st = this.storage;
    const applied = this.sm.applied;
    if (!this.up || this.outstanding || applied <= st.snapshot().meta.index || applied > st.lastIndex()) return false;
    st.createSnapshot(applied, this.confState, this.sm.serialize());
    const compactTo = applied - margin;
    if (compactTo >= st.firstIndex()) st.compact(compactTo);
    this.stats.snapshots++;
    this.trace('snapshot', `snapshot @${applied} (${formatConf(this.confState)}), log compacted to [${st.firstIndex()}..${st.lastIndex()}]`, applied);
    return true;
  }
}

export function formatConf(cs: ConfState): string {
  let s = `voters{${cs.voters.join(',')}}`;
  if (cs.votersOutgoing.length > 0) s += ` outgoing{${cs.votersOutgoing.join(',')}}`;
  if (cs.learners.length > 0) s += ` learners{${cs.learners.join(',')}}`;
  if (cs.learnersNext.length > 0) s += ` learnersNext{${cs.learnersNext.join(',')}}`;
  if (cs.votersOutgoing.length > 0) s += cs.autoLeave ? ' (joint, auto-leave)' : ' (joint)';
  return s;
}

export function members(cs: ConfState): NodeId[] {
  return [...new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext])];
}

function describeWrite(rd: Ready): string {
  const parts: string[] = [];
  if (rd.hardState) parts.push(`hs(t${rd.hardState.term} vote '${rd.hardState.vote}' c${rd.hardState.commit})`);
  if (rd.snapshot) parts.push(`snapshot@${rd.snapshot.meta.index}/t${rd.snapshot.meta.term}`);
  if (rd.entries.length > 0) parts.push(`entries${formatEntries(rd.entries)}`);
  return `write ${parts.join(' ')}${rd.mustSync ? ' fsync' : ''}`;
}
