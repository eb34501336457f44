// Core data types of the deterministic Raft protocol.
//
// Everything here is plain data: no IO, no clocks, no randomness. The runtime (real disk, TCP,
// timers) and the simulator (virtual disk, virtual network, virtual clock) both drive the same
// core through these types.

/** A stable node identity (not an address: addresses may change, ids never do). */
export type NodeId = string;

/** Sentinel for "no node" in votes and leader fields. */
export const NONE: NodeId = '';

/**
 * LogId = (term, index). A new term does not restart the index: indexes count up across the
 * whole life of the group, and the term says which leader created the entry. Two entries with
 * the same LogId are identical (the Log Matching property).
 */
export interface LogId {
  readonly term: number;
  readonly index: number;
}

export enum EntryType {
  /** Application data (possibly empty: a new leader's no-op entry has empty data). */
  Normal = 0,
  /** A membership change; data is an encoded ConfChange (see confchange-codec.ts). */
  ConfChange = 1,
}

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before a vote is granted or a message of the term is sent. */
export interface HardState {
  readonly term: number;
  /** Whom this node voted for in `term`, or NONE. */
  readonly vote: NodeId;
  /** Highest index known committed. Persisting it is an optimisation, not a safety need. */
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

/** Membership, as stored in snapshots and reported when it changes. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  /** Voters of the outgoing configuration while in a joint configuration; empty otherwise. */
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Voters of the outgoing config that become learners once the joint config is left. */
  readonly learnersNext: readonly NodeId[];
  /** Whether the leader leaves the joint configuration by itself once it is committed. */
  readonly autoLeave: boolean;
}

export interface SnapshotMeta {
  /** Last log entry included in the snapshot. */
  readonly index: number;
  readonly term: number;
  /** Membership as of `index`. */
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** Opaque state-machine image. */
  readonly data: Uint8Array;
}

export type ConfChangeOp = 'addVoter' | 'addLearner' | 'removeNode';

export interface ConfChangeSingle {
  readonly op: ConfChangeOp;
  readonly node: NodeId;
}

/**
 * A membership change. One single voter change is applied directly; anything else (or
 * `transition: 'joint'`) goes through a joint configuration C_old,new first.
 * An empty `changes` list in a joint config means "leave the joint configuration".
 */
export interface ConfChange {
  readonly changes: readonly ConfChangeSingle[];
  /** 'auto' (default): simple if possible, else joint with automatic leave. */
  readonly transition?: 'auto' | 'joint' | 'jointExplicit';
  /** Opaque bytes for the application (e.g. addresses of new nodes). */
  readonly context?: Uint8Array;
}

export enum MessageType {
  /** Local: start an election now (sent by tick or by the runtime). */
  Hup = 'Hup',
  /** Local: leader check-quorum tick. */
  CheckQuorum = 'CheckQuorum',
  /** Local or forwarded: proposal of entries. */
  Prop = 'Prop',
  App = 'App',
  AppResp = 'AppResp',
  Vote = 'Vote',
  VoteResp = 'VoteResp',
  PreVote = 'PreVote',
  PreVoteResp = 'PreVoteResp',
  Snap = 'Snap',
  Heartbeat = 'Heartbeat',
  HeartbeatResp = 'HeartbeatResp',
  /** Local: the runtime reports that a peer could not be reached. */
  Unreachable = 'Unreachable',
  /** Local: the runtime reports the outcome of sending a snapshot. */
  SnapStatus = 'SnapStatus',
  /** Local or forwarded: transfer leadership to `from`'s named target (see Message.transferee). */
  TransferLeader = 'TransferLeader',
  TimeoutNow = 'TimeoutNow',
  /** Local or forwarded to the leader: a linearizable read request. */
  ReadIndex = 'ReadIndex',
  ReadIndexResp = 'ReadIndexResp',
}

/**
 * One Raft message. Fields not used by a type are left at their defaults; the codec in the
 * transport layer only writes what each type needs.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term; 0 for local messages. */
  readonly term: number;
  /** App: term of the entry at `index` (prev log term). Vote: candidate's last log term. */
  readonly logTerm?: number;
  /** App: index preceding `entries`. AppResp: highest matched (or rejected) index. Vote: last index. */
  readonly index?: number;
  readonly entries?: readonly Entry[];
  readonly commit?: number;
  readonly reject?: boolean;
  /** AppResp on reject: the follower's best guess of the match point (its last index or a conflict). */
  readonly rejectHint?: number;
  /** AppResp on reject: the term of the follower's entry at rejectHint. */
  readonly rejectHintTerm?: number;
  readonly snapshot?: Snapshot;
  /** Heartbeat/HeartbeatResp: read-index round id. ReadIndex/ReadIndexResp: request id. */
  readonly context?: string;
  /** Vote/PreVote: set when the campaign is a leader transfer (bypasses leader stickiness). */
  readonly transfer?: boolean;
  /** TransferLeader: the desired new leader. */
  readonly transferee?: NodeId;
  /** ReadIndex: serve from the leader lease instead of a heartbeat round. */
  readonly lease?: boolean;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

/** Volatile state reported to the runtime when it changes. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/** A completed read-index request: it may be served once the state machine applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly requestId: string;
}

/** Reason a read-index request was not served (the runtime fails the caller with it). */
export interface ReadFailure {
  readonly requestId: string;
  readonly code: 'NOT_LEADER' | 'NO_LEADER' | 'LEASE_UNAVAILABLE';
  readonly leader: NodeId;
}

/**
 * The batch the runtime takes from the core, processes, and acknowledges.
 *
 * THE PERSISTENCE CONTRACT (the runtime must follow this order for every Ready):
 *   1. `messages` may be sent at once, before anything is persisted. They are only ever the
 *      leader's own replication traffic (App, Heartbeat, Snap, TimeoutNow, ReadIndexResp) of a
 *      term that is already durable, so the leader's local fsync and the followers' appends run
 *      in parallel (Raft thesis §10.2.1).
 *   2. Persist `hardState` (if present), `snapshot` (if present) and `entries` (appending; an
 *      entry at an index that already exists replaces it and everything after it). If
 *      `mustSync`, the write must be durable (fsync) before step 3.
 *   3. Send `messagesAfterPersist`: votes granted, append acknowledgements and any message of a
 *      term or vote persisted in step 2. Sending them earlier could grant two votes in one term
 *      after a crash or acknowledge entries a crash would lose.
 *   4. Apply `committedEntries` in order (they may include entries from step 2, which is why it
 *      comes after it), and serve `readStates` once the applied index reaches theirs.
 *   5. Call `advance(ready)`. Only then does the leader count its own copy of `entries` towards
 *      the commit quorum.
 * At most one Ready is outstanding: `ready()` may not be called again before `advance()`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly readFailures: readonly ReadFailure[];
  /** Set when the membership changed in this batch (conf change applied or snapshot restored). */
  readonly confState?: ConfState;
  /** True when hardState, entries or snapshot must be fsynced before step 3. */
  readonly mustSync: boolean;
}

/** Progress of replication to one peer, as seen by the leader. */
export enum ProgressState {
  /** Sending one AppendEntries at a time to find the match point. */
  Probe = 'probe',
  /** Match point known: AppendEntries are pipelined up to the inflight window. */
  Replicate = 'replicate',
  /** The peer needs a snapshot; sending entries is paused until it reports back. */
  Snapshot = 'snapshot',
}

export interface PeerStatus {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly learner: boolean;
  readonly recentActive: boolean;
  readonly inflightCount: number;
}

export interface Status {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId;
  /** Only on the leader. */
  readonly peers: readonly PeerStatus[];
}
