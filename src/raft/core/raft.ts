// The Raft protocol state of one node and the machinery shared by every role: becoming a role,
// ticking, the term rules applied to every incoming message, sending, and appending.
// Role-specific message handling lives in election.ts, follower.ts and leader.ts; replication
// in replication.ts; membership in membership.ts.

import { RaftError, invariant } from './errors.js';
import { campaign, hup, stepVoteRequest } from './election.js';
import { stepCandidate, stepFollower } from './follower.js';
import { stepLeader } from './leader.js';
import { RaftLog } from './log.js';
import { applyConfChangeEntry, applyConfState, handOffLeadership } from './membership.js';
import type { ResolvedOptions } from './options.js';
import { Progress } from './progress.js';
import type { Rand } from './random.js';
import { ReadOnly, type ReadRequest } from './read-only.js';
import { bcastAppend, bcastHeartbeat } from './replication.js';
import { entrySize } from './storage.js';
import { ProgressTracker } from './tracker.js';
import {
  type Entry,
  EntryType,
  type LogId,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  type ReadFailure,
  type ReadState,
  Role,
} from './types.js';

export type StepFn = (r: Raft, m: Message) => void;

/** A message without the fields every sender fills in the same way. */
export type Outgoing = Omit<Message, 'from' | 'term'> & { term?: number };

export class Raft {
  readonly id: NodeId;
  readonly opts: ResolvedOptions;
  readonly rand: Rand;

  // --- durable (HardState) ---
  term = 0;
  vote: NodeId = NONE;

  // --- volatile ---
  role: Role = Role.Follower;
  lead: NodeId = NONE;
  readonly log: RaftLog;
  readonly trk: ProgressTracker;
  /** Learner in the current configuration (cannot campaign or vote). */
  isLearner = false;
  step: StepFn = stepFollower;

  /** Messages produced since the last Ready (split by the Ready contract when taken). */
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  readFailures: ReadFailure[] = [];
  readonly readOnly: ReadOnly;

  // --- timers (in ticks) ---
  /** Absolute tick counter since this node started. */
  tickCount = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  // invariant: electionTicks <= randomizedElectionTimeout < 2 * electionTicks
  randomizedElectionTimeout = 0;
  /**
   * Tick at which we last heard from a leader of our term (App, Heartbeat or Snap). Until
   * electionTicks have passed since then, vote requests are ignored (check-quorum's leader
   * stickiness, which leader leases rely on). Starts at 0: a freshly started node also waits
   * one election timeout, so a restart cannot shorten a lease it granted before crashing
   * (unless it never saw a term: then there is nothing to protect).
   */
  leaderContactTick = 0;
  /** Election priority: we campaign on timeout only if our priority >= targetPriority. */
  targetPriority = 0;

  // --- leader-only ---
  leadTransferee: NodeId = NONE;
  /** Set once TimeoutNow was sent in this term: the lease can no longer be trusted. */
  leaseVoided = false;
  // invariant (leader): no new conf change is accepted while pendingConfIndex > log.applying
  pendingConfIndex = 0;
  /** Bytes of uncommitted entries appended in this term (for maxUncommittedEntriesBytes). */
  uncommittedSize = 0;
  /** Entries were appended (or commit advanced) and followers have not been told yet. */
  pendingBcast = false;
  /** The membership changed since the last Ready. */
  confChanged = false;
  /** A TimeoutNow arrived while membership changes were waiting to apply: campaign after them. */
  campaignAfterApply = false;

  constructor(
    id: NodeId,
    opts: ResolvedOptions,
    rand: Rand,
    log: RaftLog,
  ) {
    this.id = id;
    this.opts = opts;
    this.rand = rand;
    this.log = log;
    this.trk = new ProgressTracker(opts.maxInflightMsgs, opts.maxInflightBytes);
    this.readOnly = new ReadOnly(Math.max(16, opts.electionTicks * 4));
  }

  /** Loads durable state (called once by RawNode after construction). */
  load(applied: number | undefined): void {
    const { hardState, confState } = this.log.storage.initialState();
    applyConfState(this, confState);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) {
      // The stored commit index may lag (it is persisted lazily) and is then below the
      // snapshot: the snapshot's index is committed anyway. Above the log it is corruption.
      invariant(
        hardState.commit <= this.log.lastIndex(),
        () => `stored commit ${hardState.commit} beyond the last log index ${this.log.lastIndex()}`,
      );
      this.log.commitTo(hardState.commit);
      this.term = hardState.term;
      this.vote = hardState.vote;
    }
    if (applied !== undefined && applied > this.log.applied) {
      invariant(applied <= this.log.committed, `configured applied ${applied} beyond commit ${this.log.committed}`);
      // Entries up to `applied` will not be handed out again, but their membership changes
      // must still take effect here.
      for (let lo = this.log.applied + 1; lo <= applied; ) {
        const ents = this.log.slice(lo, applied + 1, this.opts.maxApplyBytesPerReady);
        for (const e of ents) if (e.type === EntryType.ConfChange) applyConfChangeEntry(this, e);
        lo = ents[ents.length - 1]!.index + 1;
      }
      this.log.appliedTo(applied);
    }
    this.becomeFollower(this.term, NONE);
    this.targetPriority = this.maxPriority();
    // A node that never saw an elected term (bootstrap writes term 1; the first election
    // makes term 2) cannot have granted a lease.
    if (this.term <= 1) this.leaderContactTick = -this.opts.electionTicks;
  }

  // ------------------------------------------------------------------ roles

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.leaseVoided = false;
    this.campaignAfterApply = false;
    this.trk.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      const fresh = new Progress(last + 1, this.opts.maxInflightMsgs, this.opts.maxInflightBytes, pr.isLearner);
      if (id === this.id) fresh.match = this.persistedIndex();
      this.trk.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.pendingBcast = false;
    this.failReads(this.readOnly.drain(), 'NOT_LEADER');
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.step = stepFollower;
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
    if (lead !== NONE) this.targetPriority = this.maxPriority();
  }

  becomeCandidate(): void {
    invariant(this.role !== Role.Leader, 'leader cannot become candidate directly');
    this.step = stepCandidate;
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  becomePreCandidate(): void {
    invariant(this.role !== Role.Leader, 'leader cannot become pre-candidate directly');
    // Pre-vote changes neither term nor vote.
    this.step = stepCandidate;
    this.trk.resetVotes();
    this.lead = NONE;
    this.role = Role.PreCandidate;
  }

  becomeLeader(): void {
    invariant(this.role !== Role.Follower, 'follower cannot become leader directly');
    this.step = stepLeader;
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    const self = this.trk.progress.get(this.id);
    if (self) self.becomeReplicate();
    // Conservatively block conf changes until everything up to here is applied (an earlier
    // leader may have left an unapplied one in the log).
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op entry of the new term: committing it commits every earlier entry (Figure 8).
    this.appendEntries([{ type: EntryType.Normal, data: new Uint8Array(0) }]);
  }

  // ------------------------------------------------------------------ ticks

  tick(): void {
    this.tickCount++;
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (!this.promotable() || this.electionElapsed < this.randomizedElectionTimeout) return;
    this.electionElapsed = 0;
    if (!this.priorityAllowsCampaign()) return;
    this.handle({ type: MessageType.Hup, from: this.id, to: this.id, term: 0 });
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.opts.electionTicks) {
      this.electionElapsed = 0;
      if (this.opts.checkQuorum) {
        this.handle({ type: MessageType.CheckQuorum, from: this.id, to: this.id, term: 0 });
      }
      // A transfer that has not finished within an election timeout is abandoned (a leader that
      // is no longer a voter tries again with the best voter).
      if (this.role === Role.Leader && this.leadTransferee !== NONE) {
        this.leadTransferee = NONE;
        if (!this.trk.isVoter(this.id)) handOffLeadership(this);
      }
    }
    if (this.role !== Role.Leader) return;
    if (this.heartbeatElapsed >= this.opts.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this);
    }
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.opts.electionTicks + this.rand.int(this.opts.electionTicks);
  }

  /** A voter of the current configuration with no snapshot pending may campaign. */
  promotable(): boolean {
    return this.trk.isVoter(this.id) && !this.isLearner && this.log.unstable.snapshot === undefined;
  }

  maxPriority(): number {
    const p = this.opts.priority;
    if (!p) return 0;
    let max = 0;
    for (const id of this.trk.voterIds()) max = Math.max(max, p[id] ?? 0);
    return max;
  }

  /**
   * Election priority (as in JRaft): a node campaigns on timeout only if its priority is at
   * least the target; each timeout without a leader lowers the target by a fifth so that lower
   * priorities get their turn when the preferred nodes are down. Priority 0 never campaigns.
   */
  private priorityAllowsCampaign(): boolean {
    const p = this.opts.priority;
    if (!p) return true;
    const mine = p[this.id] ?? 0;
    if (mine <= 0) return false;
    if (mine >= this.targetPriority) return true;
    this.targetPriority = Math.max(mine, Math.floor(this.targetPriority * 0.8));
    return false;
  }

  // ------------------------------------------------------------------ messages

  /**
   * Every message enters here: the term rules common to all roles, then the role's handler.
   */
  handle(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        if (!m.transfer && this.inLease()) return; // leader stickiness: ignore
      }
      if (m.type === MessageType.PreVote) {
        // Never change term for a pre-vote request.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // A granted pre-vote carries the term we would campaign at; nothing to adopt.
      } else if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.opts.checkQuorum || this.opts.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
        // A stale leader (e.g. after a partition): tell it our term so it steps down. Without
        // this, pre-vote could leave it stranded forever.
        this.send({ type: MessageType.AppResp, to: m.from });
      } else if (m.type === MessageType.PreVote) {
        this.send({ type: MessageType.PreVoteResp, to: m.from, reject: true });
      }
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        hup(this, false);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        stepVoteRequest(this, m);
        return;
      default:
        this.step(this, m);
    }
  }

  /** Within an election timeout of hearing from a leader (check-quorum only). */
  inLease(): boolean {
    if (!this.opts.checkQuorum) return false;
    if (this.role === Role.Leader) return true;
    return this.tickCount - this.leaderContactTick < this.opts.electionTicks;
  }

  /** Queues a message; term defaults to ours (pre-vote messages set their own). */
  send(m: Outgoing): void {
    invariant(m.to !== this.id || m.type === MessageType.ReadIndexResp, () => `sending ${m.type} to self`);
    const term = m.term ?? this.term;
    this.msgs.push({ ...m, from: this.id, term });
  }

  // ------------------------------------------------------------------ log

  /** The highest index whose write has been acknowledged (nothing unstable at or below it). */
  persistedIndex(): number {
    const u = this.log.unstable;
    if (u.snapshot) return 0;
    return u.entries.length > 0 ? u.offset - 1 : this.log.lastIndex();
  }

  /**
   * Appends entries of the current term on the leader. Throws BUSY (and appends nothing) if
   * they would push the uncommitted tail over its cap.
   */
  appendEntries(ents: ReadonlyArray<Pick<Entry, 'type' | 'data'>>): LogId {
    let size = 0;
    for (const e of ents) if (e.data.byteLength > 0) size += entrySize(e as Entry);
    const max = this.opts.maxUncommittedEntriesBytes;
    if (max > 0 && this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > max) {
      throw new RaftError('BUSY', `uncommitted log tail is full (${this.uncommittedSize} + ${size} bytes > ${max}); retry later`, this.id);
    }
    this.uncommittedSize += size;
    let index = this.log.lastIndex();
    const out: Entry[] = ents.map((e) => ({ term: this.term, index: ++index, type: e.type, data: e.data }));
    this.log.append(out);
    this.pendingBcast = true;
    return { term: this.term, index };
  }

  /** Committed entries handed out for applying no longer count as uncommitted. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.uncommittedSize === 0) return;
    let size = 0;
    for (const e of ents) if (e.data.byteLength > 0) size += entrySize(e);
    this.uncommittedSize = Math.max(0, this.uncommittedSize - size);
  }

  /** Leader: advance the commit index to what a quorum holds. Returns true if it moved. */
  maybeCommit(): boolean {
    const mci = this.trk.committed();
    if (this.opts.unsafeCommitPreviousTerm) {
      // DELIBERATELY UNSAFE (simulator self-test only): commits by counting replicas whatever
      // the entry's term, violating the Figure 8 rule.
      if (mci > this.log.committed) {
        this.log.commitTo(mci);
        return true;
      }
      return false;
    }
    return this.log.maybeCommit(mci, this.term);
  }

  /** True once the leader has committed an entry of its own term (reads may be served). */
  committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  // ------------------------------------------------------------------ reads

  /** Answers read requests confirmed at read point `index`. */
  serveReads(index: number, requests: readonly ReadRequest[]): void {
    for (const req of requests) {
      if (req.from === this.id) this.readStates.push({ index, requestId: req.id });
      else this.send({ type: MessageType.ReadIndexResp, to: req.from, index, context: req.id });
    }
  }

  failReads(requests: readonly ReadRequest[], code: ReadFailure['code']): void {
    for (const req of requests) {
      if (req.from === this.id) this.readFailures.push({ requestId: req.id, code, leader: this.lead });
      else if (this.role === Role.Leader || code !== 'NOT_LEADER') {
        this.send({ type: MessageType.ReadIndexResp, to: req.from, index: 0, context: req.id, reject: true });
      }
      // A forwarded request from a follower is simply dropped when we stop leading: the
      // follower's runtime times it out (we may no longer share its term to answer it).
    }
  }

  /** Called when a Ready is taken: send what was batched for this event-loop turn. */
  flush(): void {
    if (this.role !== Role.Leader) return;
    if (this.pendingBcast) {
      this.pendingBcast = false;
      bcastAppend(this);
    }
    if (this.readOnly.hasWaiting() && this.committedInTerm()) {
      if (this.trk.isSingleton()) {
        this.serveReads(this.log.committed, this.readOnly.takeWaiting());
      } else {
        bcastHeartbeat(this, this.log.committed);
      }
    }
  }

  /** Starts an election now (campaign of the given kind) — used by RawNode.campaign. */
  campaignNow(): void {
    campaign(this, this.opts.preVote ? 'pre' : 'election');
  }
}
