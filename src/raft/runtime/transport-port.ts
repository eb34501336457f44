// What a RaftNode needs from the network: one-way Raft messages for its group, and news of
// unreachable peers. The TCP transport and the in-memory transport both provide it.

import type { Message, NodeId } from '../core/types.js';

export interface RaftTransportPort {
  /** Queues a message for `msg.to`; false if it was dropped (queue full, unknown peer). */
  send(groupId: string, msg: Message): boolean;
  /** Receives this group's messages; `onUnreachable` hears of peers that cannot be reached. */
  register(groupId: string, onMessage: (msg: Message) => void, onUnreachable?: (peer: NodeId) => void): void;
  unregister(groupId: string): void;
  /** Address of a peer ("host:port"), for NOT_LEADER hints. */
  addressOf?(peer: NodeId): string | undefined;
  /**
   * Request/response, when the transport has it: snapshots then travel in resumable chunks
   * (snapshot-transfer.ts) instead of inside one message.
   */
  request?(peer: NodeId, groupId: string, payload: Uint8Array, opts?: { timeoutMs?: number }): Promise<Uint8Array>;
  onRequest?(handler: ((groupId: string, payload: Uint8Array, peer: NodeId) => Promise<Uint8Array> | Uint8Array) | undefined): void;
}
