// What the TCP and in-memory transports share: the group registry and dispatch, unreachable
// notifications, the request handler, and the RaftTransportPort adapter methods.

import { TransportError } from './errors.js';
import { LogThrottle, warnOnlyConsoleLogger } from './logger.js';
import type { Logger, LogFields } from './logger.js';
import type { GroupHandler, ListenAddress, RequestHandler, RequestOptions, SendStatus, Transport, TransportOptions } from './transport.js';
import { TRANSPORT_DEFAULTS } from './transport.js';
import type { Message, NodeId } from '../raft/core/types.js';

export interface ResolvedOptions {
  readonly nodeId: NodeId;
  readonly cluster: string;
  readonly logger: Logger;
  readonly maxQueueMessages: number;
  readonly maxQueueBytes: number;
  readonly maxFrameSize: number;
  readonly requestTimeoutMs: number;
}

export function resolveOptions(o: TransportOptions, defaultMaxFrame: number): ResolvedOptions {
  if (typeof o.nodeId !== 'string' || o.nodeId === '') throw new TypeError('transport: nodeId must be a non-empty string');
  const r: ResolvedOptions = {
    nodeId: o.nodeId,
    cluster: o.cluster ?? TRANSPORT_DEFAULTS.cluster,
    logger: o.logger ?? warnOnlyConsoleLogger,
    maxQueueMessages: o.maxQueueMessages ?? TRANSPORT_DEFAULTS.maxQueueMessages,
    maxQueueBytes: o.maxQueueBytes ?? TRANSPORT_DEFAULTS.maxQueueBytes,
    maxFrameSize: o.maxFrameSize ?? defaultMaxFrame,
    requestTimeoutMs: o.requestTimeoutMs ?? TRANSPORT_DEFAULTS.requestTimeoutMs,
  };
  for (const k of ['maxQueueMessages', 'maxQueueBytes', 'maxFrameSize', 'requestTimeoutMs'] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw new TypeError(`transport: ${k} must be a positive integer`);
  }
  if (r.maxFrameSize > 0xffffffff) throw new TypeError('transport: maxFrameSize must fit in a u32');
  return r;
}

export abstract class TransportBase implements Transport {
  readonly nodeId: NodeId;
  protected readonly opts: ResolvedOptions;
  protected readonly log: Logger;
  protected readonly groups = new Map<string, GroupHandler>();
  protected requestHandler: RequestHandler | undefined;
  private readonly unreachableListeners = new Set<(peer: NodeId) => void>();
  private readonly throttle = new LogThrottle();

  protected constructor(opts: ResolvedOptions) {
    this.opts = opts;
    this.nodeId = opts.nodeId;
    this.log = opts.logger;
  }

  abstract listen(): Promise<ListenAddress>;
  abstract close(): Promise<void>;
  abstract setPeer(nodeId: NodeId, host: string, port: number): void;
  abstract removePeer(nodeId: NodeId): void;
  abstract addressOf(nodeId: NodeId): string | undefined;
  abstract trySend(groupId: string, msg: Message): SendStatus;
  abstract request(peer: NodeId, groupId: string, payload: Uint8Array, opts?: RequestOptions): Promise<Uint8Array>;

  send(groupId: string, msg: Message): boolean {
    return this.trySend(groupId, msg) === 'OK';
  }

  registerGroup(groupId: string, handler: GroupHandler): void {
    this.groups.set(groupId, handler);
  }

  unregisterGroup(groupId: string): void {
    this.groups.delete(groupId);
  }

  register(groupId: string, onMessage: (msg: Message) => void, onUnreachable?: (peer: NodeId) => void): void {
    this.registerGroup(groupId, onUnreachable ? { onMessage, onUnreachable } : { onMessage });
  }

  unregister(groupId: string): void {
    this.unregisterGroup(groupId);
  }

  onUnreachable(listener: (peer: NodeId) => void): () => void {
    this.unreachableListeners.add(listener);
    return () => this.unreachableListeners.delete(listener);
  }

  onRequest(handler: RequestHandler | undefined): void {
    this.requestHandler = handler;
  }

  /**
   * Tells every listener and every group that `peer` is unreachable. Delivered from a fresh
   * macrotask (coalesced per peer), never from inside the call that noticed it, so a runtime
   * never sees RawNode.reportUnreachable re-entered from its own send().
   */
  protected notifyUnreachable(peer: NodeId): void {
    this.unreachableSoon.add(peer);
    if (this.unreachableSoon.size === 1) setImmediate(this.flushUnreachable);
  }

  private readonly unreachableSoon = new Set<NodeId>();

  private readonly flushUnreachable = (): void => {
    const peers = [...this.unreachableSoon];
    this.unreachableSoon.clear();
    for (const p of peers) this.notifyNow(p);
  };

  private notifyNow(peer: NodeId): void {
    for (const l of [...this.unreachableListeners]) {
      try {
        l(peer);
      } catch (e) {
        this.log.warn('unreachable listener threw', { peer, error: String(e) });
      }
    }
    for (const [groupId, h] of [...this.groups]) {
      if (!h.onUnreachable) continue;
      try {
        h.onUnreachable(peer);
      } catch (e) {
        this.log.warn('group onUnreachable threw', { groupId, peer, error: String(e) });
      }
    }
  }

  /** Hands a decoded message to its group; false if the group is unknown. */
  protected dispatch(groupId: string, msg: Message, from: NodeId): boolean {
    const h = this.groups.get(groupId);
    if (!h) return false;
    try {
      h.onMessage(msg, from);
    } catch (e) {
      this.warnThrottled(`handler:${groupId}`, 'group message handler threw', { groupId, from, type: msg.type, error: String(e) });
    }
    return true;
  }

  /**
   * Runs the request handler; resolves with the response payload or rejects with a
   * TransportError (UNKNOWN_GROUP when no handler is installed, REMOTE_ERROR for plain errors).
   */
  protected async handleRequest(groupId: string, payload: Uint8Array, peer: NodeId): Promise<Uint8Array> {
    const h = this.requestHandler;
    if (!h) throw new TransportError('UNKNOWN_GROUP', `node ${this.nodeId} has no request handler (group '${groupId}')`);
    try {
      return await h(groupId, payload, peer);
    } catch (e) {
      if (e instanceof TransportError) throw e;
      throw new TransportError('REMOTE_ERROR', e instanceof Error ? e.message : String(e));
    }
  }

  /** warn, at most one line per key every few seconds (with the count of suppressed lines). */
  protected warnThrottled(key: string, msg: string, fields: LogFields): void {
    const suppressed = this.throttle.admit(key);
    if (suppressed < 0) return;
    this.log.warn(msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  }
}
