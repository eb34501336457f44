// Typed errors of the Raft core. Every error has a stable `code` that callers can switch on;
// messages are for people and may change.

export type RaftErrorCode =
  | 'PROPOSAL_DROPPED' // no leader known, or the proposal could not be forwarded
  | 'NOT_LEADER' // this node is not the leader (leader hint attached when known)
  | 'BUSY' // uncommitted log over its byte cap: retry later
  | 'TRANSFERRING_LEADERSHIP' // proposals are refused while leadership moves
  | 'CONF_CHANGE_PENDING' // a membership change is already in flight
  | 'INVALID_CONF_CHANGE' // the change is not valid against the current configuration
  | 'LEARNER_NOT_CAUGHT_UP' // promotion refused: the learner is too far behind
  | 'COMPACTED' // the requested index was compacted into a snapshot
  | 'UNAVAILABLE' // the requested entries are not available (yet)
  | 'SNAPSHOT_OUT_OF_DATE' // a snapshot older than the current one
  | 'SNAPSHOT_TEMPORARILY_UNAVAILABLE' // storage cannot produce a snapshot right now
  | 'TERM_MISMATCH' // the proposal's expectedTerm is not the leader's term
  | 'INVALID_CONFIG' // bad options
  | 'INVARIANT'; // a broken internal invariant: a bug, never a recoverable condition

export class RaftError extends Error {
  readonly code: RaftErrorCode;
  /** Known leader, for NOT_LEADER / PROPOSAL_DROPPED. */
  readonly leader: string;

  constructor(code: RaftErrorCode, message: string, leader = '') {
    super(message);
    this.name = 'RaftError';
    this.code = code;
    this.leader = leader;
  }
}

/** Fails loudly when an invariant does not hold. Never caught inside the core. */
export function invariant(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) {
    const text = typeof message === 'function' ? message() : message;
    throw new RaftError('INVARIANT', `raft invariant violated: ${text}`);
  }
}
