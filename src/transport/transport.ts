// The transport interface shared by the TCP transport (tcp-transport.ts) and the in-memory
// transport (memory-transport.ts), and the options both take.
//
// A transport belongs to one node (process) and is shared by every Raft group on it: each
// one-way Raft message carries its group id and is dispatched to the handler registered for that
// group. It also carries request/response traffic (client RPC, snapshot chunks) multiplexed by
// request id. It implements RaftTransportPort, so a RaftNode can use it directly.

import type { Message, NodeId } from '../raft/core/types.js';
import type { RaftTransportPort } from '../raft/runtime/transport-port.js';
import type { Logger } from './logger.js';

export interface GroupHandler {
  /** A message for this group from `from` (the authenticated peer of the connection). */
  onMessage(msg: Message, from: NodeId): void;
  /** `peer` could not be reached (connect failed, connection lost): for RawNode.reportUnreachable. */
  onUnreachable?(peer: NodeId): void;
}

/**
 * Server side of request(): resolves to the response payload. Throwing a TransportError sends
 * its code back (e.g. UNKNOWN_GROUP); any other error arrives as REMOTE_ERROR.
 */
export type RequestHandler = (groupId: string, payload: Uint8Array, peer: NodeId) => Promise<Uint8Array> | Uint8Array;

/** Outcome of trySend(). Everything but 'OK' means the message was dropped. */
export type SendStatus = 'OK' | 'QUEUE_FULL' | 'UNREACHABLE' | 'CLOSED' | 'FRAME_TOO_LARGE' | 'INVALID_MESSAGE';

export interface RequestOptions {
  /** Default: the transport's requestTimeoutMs. */
  timeoutMs?: number;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface TransportOptions {
  /** This node's stable id, sent in the handshake. */
  nodeId: NodeId;
  /** Peers of another cluster are refused at the handshake. Default 'raftkv'. */
  cluster?: string;
  logger?: Logger;
  /** Per-peer outgoing queue bound, in frames not yet handed to the socket. Default 8192. */
  maxQueueMessages?: number;
  /**
   * Per-peer outgoing queue bound in bytes (unsent frames + bytes buffered in the socket).
   * Default 32 MiB. A frame is always accepted into an empty queue (if under maxFrameSize).
   */
  maxQueueBytes?: number;
  /** Largest frame sent or accepted. Default 64 MiB. */
  maxFrameSize?: number;
  /** Default timeout of request(). Default 5000 ms. */
  requestTimeoutMs?: number;
}

export interface Transport extends RaftTransportPort {
  readonly nodeId: NodeId;

  /** Starts accepting connections; resolves with the bound address. */
  listen(): Promise<ListenAddress>;
  /** Closes every connection and the listener; pending requests fail with CLOSED. Idempotent. */
  close(): Promise<void>;

  /**
   * Where `nodeId` listens. Changing it drops the current connection to the old address.
   * An id starting with '@' (e.g. '@127.0.0.1:7001') names an address rather than a node: the
   * handshake accepts whichever node answers there (for clients given addresses only).
   */
  setPeer(nodeId: NodeId, host: string, port: number): void;
  /** Forgets a peer: closes its connection, drops its queue, fails its requests with CLOSED. */
  removePeer(nodeId: NodeId): void;
  /** "host:port" of a peer, if known. */
  addressOf(nodeId: NodeId): string | undefined;

  /** Routes the group's Raft messages to `handler` (replacing any previous handler). */
  registerGroup(groupId: string, handler: GroupHandler): void;
  unregisterGroup(groupId: string): void;

  /**
   * Queues `msg` for `msg.to` without blocking. Never throws: a message that cannot be queued is
   * dropped and the status says why (Raft tolerates lost messages).
   */
  trySend(groupId: string, msg: Message): SendStatus;
  /** trySend() === 'OK' (the RaftTransportPort shape). */
  send(groupId: string, msg: Message): boolean;

  /** Subscribes to "peer unreachable" news (in addition to the groups' onUnreachable). */
  onUnreachable(listener: (peer: NodeId) => void): () => void;

  /** Sends a request to `peer` and resolves with its response payload. */
  request(peer: NodeId, groupId: string, payload: Uint8Array, opts?: RequestOptions): Promise<Uint8Array>;
  /** Installs the server-side request handler (undefined removes it). */
  onRequest(handler: RequestHandler | undefined): void;
}

export const TRANSPORT_DEFAULTS = {
  cluster: 'raftkv',
  maxQueueMessages: 8192,
  maxQueueBytes: 32 * 1024 * 1024,
  requestTimeoutMs: 5000,
} as const;
