// The client protocol carried in transport request/response frames.
//
// request  = [u8 op][u32 headerLength][header: UTF-8 JSON][body: raw bytes]
// response = [u8 status (0 ok, 1 error)][u32 headerLength][header JSON][body bytes]
// Bodies carry application bytes untouched (entry data, query and results); headers carry the
// small typed fields. An error header is {code, message, leaderId?, leaderAddress?}.

export enum Op {
  Apply = 1,
  Query = 2,
  Status = 3,
  Admin = 4,
}

export type Consistency = 'linearizable' | 'lease' | 'stale' | 'local';

export interface ApplyHeader {
  expectedTerm?: number;
  /** With callId: the retry cache key. A retried call carries the same pair. */
  clientId?: string;
  callId?: number;
  /** The lowest call id this client still waits for (replies below it can be forgotten). */
  firstUnreplied?: number;
}

export interface QueryHeader {
  consistency?: Consistency;
  /** For 'stale': the replica must have applied at least this index. */
  minIndex?: number;
}

export type AdminAction =
  | { action: 'addVoter' | 'addLearner' | 'promote' | 'removeNode'; node: string; address?: string }
  | { action: 'transferLeader'; node: string }
  | { action: 'snapshot' }
  | { action: 'changePeers'; voters: string[]; learners?: string[] };

export interface ErrorHeader {
  code: string;
  message: string;
  leaderId?: string;
  leaderAddress?: string;
}

export {
  encodeEnvelope as encodeMessage,
  decodeEnvelope as decodeMessage,
  EnvelopeError as ProtocolError,
} from '../raft/runtime/rpc-router.js';
