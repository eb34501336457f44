// Typed errors of the Raft runtime (RaftNode). Codes are stable; callers switch on `code`.
// The numeric `status` follows SOFAJRaft's RaftError numbers where one exists, for people
// coming from JRaft.

export type NodeErrorCode =
  | 'NOT_LEADER' // this node does not lead; leaderId / leaderAddress say who does, if known
  | 'BUSY' // apply queue or uncommitted log full: retry later (never a permanent state)
  | 'RESOURCE_UNAVAILABLE' // the server's pending-request permits are used up: retry later
  | 'TERM_MISMATCH' // expectedTerm differs from the leader's term
  | 'TRANSFERRING_LEADERSHIP' // proposals are refused while leadership moves
  | 'LEADER_CHANGED' // the entry was overwritten by a new leader: it was not applied
  | 'SHUTTING_DOWN' // the node is stopping or stopped
  | 'TIMEOUT' // no answer in time; the outcome of a write is unknown
  | 'STATE_MACHINE_ERROR' // the state machine rejected or failed the request
  | 'ENTRY_TOO_LARGE' // the entry exceeds maxEntryBytes
  | 'CONF_CHANGE_PENDING' // a membership change is in progress
  | 'INVALID_ARGUMENT' // bad input from the caller
  | 'NO_LEADER' // no leader known (reads on a follower)
  | 'STORAGE_ERROR' // the disk failed: the node stops
  | 'RESULT_UNAVAILABLE'; // a retried call was applied already, but its reply was not kept (a restart)

const STATUS: Record<NodeErrorCode, number> = {
  NOT_LEADER: 1008, // EPERM
  BUSY: 1009, // EBUSY
  RESOURCE_UNAVAILABLE: 1009,
  TERM_MISMATCH: 1008,
  TRANSFERRING_LEADERSHIP: 1009,
  LEADER_CHANGED: 1008,
  SHUTTING_DOWN: 1010,
  TIMEOUT: 1010, // ETIMEDOUT
  RESULT_UNAVAILABLE: 10002,
  STATE_MACHINE_ERROR: 10002,
  ENTRY_TOO_LARGE: 1004, // EINVAL
  CONF_CHANGE_PENDING: 1009,
  INVALID_ARGUMENT: 1004,
  NO_LEADER: 1008,
  STORAGE_ERROR: 5001, // EIO
};

const RETRYABLE: ReadonlySet<NodeErrorCode> = new Set(['NOT_LEADER', 'BUSY', 'TRANSFERRING_LEADERSHIP', 'LEADER_CHANGED', 'NO_LEADER', 'CONF_CHANGE_PENDING', 'TERM_MISMATCH']);

export class RaftNodeError extends Error {
  readonly code: NodeErrorCode;
  readonly status: number;
  /** Safe to retry (possibly on another node): nothing was applied. */
  readonly retryable: boolean;
  readonly leaderId: string | undefined;
  readonly leaderAddress: string | undefined;

  constructor(code: NodeErrorCode, message: string, leader?: { id?: string; address?: string | undefined }) {
    super(message);
    this.name = 'RaftNodeError';
    this.code = code;
    this.status = STATUS[code];
    this.retryable = RETRYABLE.has(code);
    this.leaderId = leader?.id || undefined;
    this.leaderAddress = leader?.address || undefined;
  }
}
