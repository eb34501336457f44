// RawNode: the public face of the deterministic core. The runtime (or the simulator) calls
// tick/step/propose/readIndex, then takes a Ready, processes it following the persistence
// contract documented on `Ready` in types.ts, and acknowledges it with advance().

import { invariant, RaftError } from './errors.js';
import { hasUnappliedConfChanges, hup } from './election.js';
import { propose } from './leader.js';
import { RaftLog } from './log.js';
import type { MemoryStorage } from './memory-storage.js';
import { encodeConfChange } from './confchange-codec.js';
import { applyConfChangeEntry, maybeAutoLeave, proposeConfChange } from './membership.js';
import { type RaftOptions, resolveOptions } from './options.js';
import { Raft } from './raft.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type LogId,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  type PeerStatus,
  type Ready,
  Role,
  type SoftState,
  type Status,
} from './types.js';

/** Messages a leader may send before its own write is durable (see the Ready contract). */
const SEND_BEFORE_PERSIST: ReadonlySet<MessageType> = new Set([
  MessageType.App,
  MessageType.Heartbeat,
  MessageType.Snap,
  MessageType.TimeoutNow,
  MessageType.ReadIndexResp,
]);

/** Local message types: never accepted from the network. */
const LOCAL_ONLY: ReadonlySet<MessageType> = new Set([
  MessageType.Hup,
  MessageType.CheckQuorum,
  MessageType.Prop,
  MessageType.Unreachable,
  MessageType.SnapStatus,
]);

export class RawNode {
  private readonly r: Raft;
  private prevSoft: SoftState;
  /** The hard state last handed out (persisted once its Ready is advanced). */
  private prevHard: HardState;
  /** The hard state known durable. */
  private durableHard: HardState;
  private outstanding: Ready | undefined;

  constructor(opts: RaftOptions) {
    const o = resolveOptions(opts);
    const log = new RaftLog(opts.storage, o.maxApplyBytesPerReady);
    this.r = new Raft(opts.id, o, opts.random, log);
    this.r.load(opts.applied);
    this.prevSoft = this.softState();
    this.prevHard = this.hardState();
    this.durableHard = this.prevHard;
  }

  /**
   * The initial log of a brand-new group: one committed ConfChange entry (term 1) adding each
   * voter, and the matching hard state. Every founding member writes the same entries, so a node
   * that joins later learns the founding membership by replaying the log like everything else.
   */
  static bootstrapState(voters: readonly NodeId[]): { entries: Entry[]; hardState: HardState } {
    invariant(voters.length > 0, 'bootstrap needs at least one voter');
    invariant(new Set(voters).size === voters.length, 'bootstrap voters must be distinct');
    const entries: Entry[] = [...voters].sort().map((node, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({ changes: [{ op: 'addVoter', node }] }),
    }));
    return { entries, hardState: { term: 1, vote: NONE, commit: entries.length } };
  }

  /** Writes the bootstrap state into a fresh in-memory storage (tests, simulator). */
  static bootstrap(storage: MemoryStorage, voters: readonly NodeId[]): void {
    invariant(storage.lastIndex() === 0, 'bootstrap needs an empty storage');
    const { entries, hardState } = RawNode.bootstrapState(voters);
    storage.append(entries);
    storage.setHardState(hardState);
  }

  get id(): NodeId {
    return this.r.id;
  }

  /** Advances logical time by one tick (heartbeats, election timeouts, check-quorum). */
  tick(): void {
    this.r.tick();
  }

  /** Starts an election now (with pre-vote if enabled). */
  campaign(): void {
    hup(this.r, false);
  }

  /**
   * Appends a proposal (leader only). Returns the LogId it was given: the proposal succeeded
   * when a committed entry with this index AND this term is delivered; a committed entry of
   * another term at that index means it was lost to a leader change.
   * @throws RaftError NOT_LEADER, TERM_MISMATCH, TRANSFERRING_LEADERSHIP, BUSY, PROPOSAL_DROPPED
   */
  propose(data: Uint8Array, opts?: { expectedTerm?: number }): LogId {
    return propose(this.r, data, opts?.expectedTerm);
  }

  /**
   * Proposes a membership change (leader only). Single voter changes apply directly; anything
   * else goes through a joint configuration, left automatically unless transition is
   * 'jointExplicit' (then propose `{ changes: [] }` to leave).
   * @throws RaftError NOT_LEADER, CONF_CHANGE_PENDING, INVALID_CONF_CHANGE, LEARNER_NOT_CAUGHT_UP, BUSY
   */
  proposeConfChange(cc: ConfChange): LogId {
    return proposeConfChange(this.r, cc);
  }

  /** Delivers a message from the network. Messages of unknown or local types are ignored. */
  step(m: Message): void {
    if (LOCAL_ONLY.has(m.type) || m.from === this.r.id) return;
    this.r.handle(m);
  }

  /**
   * Asks for a linearizable read point. The answer comes in a later Ready: a ReadState with
   * this requestId (serve the read once applied >= its index) or a ReadFailure. With `lease`,
   * a leader with a valid lease answers without a heartbeat round (needs checkQuorum).
   */
  readIndex(requestId: string, opts?: { lease?: boolean }): void {
    this.r.handle({
      type: MessageType.ReadIndex,
      from: this.r.id,
      to: this.r.id,
      term: 0,
      context: requestId,
      ...(opts?.lease ? { lease: true } : {}),
    });
  }

  /**
   * Moves leadership to `to`: the leader catches it up, then tells it to campaign at once.
   * Proposals are refused meanwhile; the transfer is abandoned after an election timeout.
   * On a follower the request is forwarded to the leader.
   */
  transferLeader(to: NodeId): void {
    const r = this.r;
    if (r.role === Role.Leader) {
      const pr = r.trk.progress.get(to);
      if (!pr || pr.isLearner) throw new RaftError('INVALID_CONF_CHANGE', `${to} is not a voter`, r.id);
    }
    r.handle({ type: MessageType.TransferLeader, from: r.id, to: r.id, term: 0, transferee: to });
  }

  /** Leader only: steps down to follower in the same term (e.g. the state machine failed). */
  stepDown(): void {
    if (this.r.role === Role.Leader) this.r.becomeFollower(this.r.term, '');
  }

  /** Current term (cheap; for callers that need it per proposal). */
  get term(): number {
    return this.r.term;
  }

  get role(): Role {
    return this.r.role;
  }

  get leader(): NodeId {
    return this.r.lead;
  }

  /** Index of the last entry in the log (including entries not yet persisted). */
  lastIndex(): number {
    return this.r.log.lastIndex();
  }

  /** The runtime could not deliver to `id` (connection failed). */
  reportUnreachable(id: NodeId): void {
    this.r.handle({ type: MessageType.Unreachable, from: id, to: this.r.id, term: 0 });
  }

  /** The runtime finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.r.handle({ type: MessageType.SnapStatus, from: id, to: this.r.id, term: 0, ...(ok ? {} : { reject: true }) });
  }

  private softState(): SoftState {
    return { leader: this.r.lead, role: this.r.role };
  }

  private hardState(): HardState {
    return { term: this.r.term, vote: this.r.vote, commit: this.r.log.committed };
  }

  /** Whether ready() has anything to hand out. False while a Ready is outstanding. */
  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.r;
    const s = this.softState();
    if (s.leader !== this.prevSoft.leader || s.role !== this.prevSoft.role) return true;
    if (!sameHard(this.hardState(), this.prevHard)) return true;
    const u = r.log.unstable;
    if (u.offsetInProgress < u.offset + u.entries.length || u.nextSnapshot()) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0 || r.readFailures.length > 0 || r.confChanged) return true;
    if (r.log.hasNextCommittedEnts()) return true;
    if (r.role === Role.Leader && (r.pendingBcast || (r.readOnly.hasWaiting() && r.committedInTerm()))) return true;
    return false;
  }

  /** Takes the next batch of work. See the persistence contract on `Ready`. */
  ready(): Ready {
    invariant(this.outstanding === undefined, 'ready() called before advance() of the previous Ready');
    const r = this.r;
    r.flush();

    const soft = this.softState();
    const softChanged = soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role;
    this.prevSoft = soft;
    const hard = this.hardState();
    const hardChanged = !sameHard(hard, this.prevHard);
    const termOrVoteChanged = hard.term !== this.durableHard.term || hard.vote !== this.durableHard.vote;
    this.prevHard = hard;

    const entries = r.log.unstable.nextEntries();
    const snapshot = r.log.unstable.nextSnapshot();
    r.log.unstable.acceptInProgress();

    const messages: Message[] = [];
    const messagesAfterPersist: Message[] = [];
    for (const m of r.msgs) {
      if (!termOrVoteChanged && SEND_BEFORE_PERSIST.has(m.type)) messages.push(m);
      else messagesAfterPersist.push(m);
    }
    r.msgs = [];
    const readStates = r.readStates;
    const readFailures = r.readFailures;
    r.readStates = [];
    r.readFailures = [];

    const committedEntries = r.log.nextCommittedEnts();
    if (committedEntries.length > 0) {
      r.log.acceptApplying(committedEntries[committedEntries.length - 1]!.index);
      r.reduceUncommittedSize(committedEntries);
      // Membership changes take effect as they are handed out for applying, in log order.
      for (const e of committedEntries) if (e.type === EntryType.ConfChange) applyConfChangeEntry(r, e);
      if (r.campaignAfterApply && !hasUnappliedConfChanges(r)) {
        r.campaignAfterApply = false;
        hup(r, true);
      }
    }
    let confState: ConfState | undefined;
    if (r.confChanged) {
      r.confChanged = false;
      confState = r.trk.confState();
    }

    const rd: Ready = {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      entries,
      ...(snapshot ? { snapshot } : {}),
      committedEntries,
      messages,
      messagesAfterPersist,
      readStates,
      readFailures,
      ...(confState ? { confState } : {}),
      mustSync: termOrVoteChanged || entries.length > 0 || snapshot !== undefined,
    };
    this.outstanding = rd;
    return rd;
  }

  /**
   * While a Ready is outstanding (its write in progress): the leader's replication traffic that
   * may leave now — AppendEntries for entries proposed since, heartbeats, read rounds. Only when
   * the current term and vote are already durable; everything else waits for the next Ready.
   * Lets followers append the next batch while the leader's own fsync is still running.
   */
  takeEarlyMessages(): Message[] {
    const r = this.r;
    if (!this.outstanding || r.role !== Role.Leader) return [];
    if (r.term !== this.durableHard.term || r.vote !== this.durableHard.vote) return [];
    r.flush();
    if (r.msgs.length === 0) return [];
    const early: Message[] = [];
    const rest: Message[] = [];
    for (const m of r.msgs) (SEND_BEFORE_PERSIST.has(m.type) ? early : rest).push(m);
    r.msgs = rest;
    return early;
  }

  /** Acknowledges that `rd` was processed: persisted, sent, applied. */
  advance(rd: Ready): void {
    invariant(rd === this.outstanding, 'advance() of a Ready that is not the outstanding one');
    this.outstanding = undefined;
    const r = this.r;
    this.durableHard = rd.hardState ?? this.durableHard;
    if (rd.snapshot) r.log.unstable.stableSnapTo(rd.snapshot.meta.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.log.unstable.stableTo(last.index, last.term);
      // The leader's own copy counts towards the quorum only now that it is durable.
      const self = r.trk.progress.get(r.id);
      if (r.role === Role.Leader && self && r.log.matchTerm(last.index, last.term) && self.maybeUpdate(last.index)) {
        if (r.maybeCommit()) r.pendingBcast = true;
      }
    }
    if (rd.committedEntries.length > 0) {
      r.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
    }
    maybeAutoLeave(r);
  }

  status(): Status {
    const r = this.r;
    const peers: PeerStatus[] = [];
    if (r.role === Role.Leader) {
      for (const [id, pr] of r.trk.progress) {
        peers.push({
          id,
          match: pr.match,
          next: pr.next,
          state: pr.state,
          learner: pr.isLearner,
          recentActive: pr.recentActive,
          inflightCount: pr.inflights.count,
        });
      }
    }
    return {
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      leader: r.lead,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      confState: r.trk.confState(),
      leadTransferee: r.leadTransferee,
      peers,
    };
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export type { Entry };
