// The in-memory transport: the Transport interface over a hub object instead of sockets, for
// deterministic tests of runtimes and multi-group processes.
//
// A MemoryHub connects endpoints (one per node). Every (from, to) pair is a link with a FIFO
// queue; one pump drains all links asynchronously (setImmediate by default, or queueMicrotask),
// so delivery is never re-entrant and per-link order is preserved. Links are bounded like the
// TCP queues (count and bytes of messages not yet delivered): QUEUE_FULL when full.
//
// Faults, as a network would produce them:
//   * block(a, b) / partition(A, B) / isolate(n): messages on blocked links vanish silently
//     (the sender sees 'OK'; requests time out) until heal().
//   * setDropRate(p): each message is lost with probability p (seeded, reproducible).
//   * an endpoint that is closed (or never listened) refuses: trySend says UNREACHABLE, the
//     sender's onUnreachable listeners hear of it once per outage, and requests in flight to it
//     fail with UNREACHABLE, as they would when a TCP connection drops.
// By default messages go through the binary codec on the way (encode at send, decode at
// delivery), which exercises it and gives the receiver its own copy, as a real wire would.

import { TransportError } from './errors.js';
import { PendingRequests } from './pending-requests.js';
import { decodeMessage, encodeMessage, messageSizeBound } from './raft-codec.js';
import { TransportBase, resolveOptions } from './transport-base.js';
import type { ListenAddress, RequestOptions, SendStatus, TransportOptions } from './transport.js';
import { DEFAULT_MAX_FRAME_SIZE } from './frame.js';
import { seededRand } from '../raft/core/random.js';
import type { Message, NodeId } from '../raft/core/types.js';

export interface MemoryHubOptions {
  /** Seed of the drop-rate generator. Default 1. */
  seed?: number;
  /** Pass raft messages through the binary codec. Default true. */
  codec?: boolean;
  /** How the delivery pump is scheduled. Default 'setImmediate'. */
  schedule?: 'setImmediate' | 'microtask';
}

/** @internal What travels on a link. */
export type Item =
  | { kind: 'raft'; groupId: string; msg: Message | null; bytes: Uint8Array | null; size: number }
  | { kind: 'request'; groupId: string; id: number; payload: Uint8Array; size: number }
  | { kind: 'response'; id: number; payload: Uint8Array; size: number }
  | { kind: 'error'; id: number; groupId: string; err: TransportError; size: number };

/** @internal A one-way link between two endpoints. */
export interface Link {
  readonly from: NodeId;
  readonly to: NodeId;
  queue: Item[];
  head: number;
  bytes: number;
}

export class MemoryHub {
  private readonly endpoints = new Map<NodeId, MemoryTransport>();
  private readonly links = new Map<string, Link>();
  private readonly blocked = new Set<string>();
  private readonly active = new Set<Link>();
  private dropRate = 0;
  private readonly rand: { float(): number };
  private pumping = false;
  readonly codec: boolean;
  private readonly schedule: 'setImmediate' | 'microtask';
  /** Delivered and dropped counts, for assertions. */
  readonly stats = { delivered: 0, dropped: 0 };

  constructor(o: MemoryHubOptions = {}) {
    this.rand = seededRand(o.seed ?? 1);
    this.codec = o.codec ?? true;
    this.schedule = o.schedule ?? 'setImmediate';
  }

  /** A new endpoint for `nodeId` (reachable once it listen()s). */
  endpoint(o: TransportOptions): MemoryTransport {
    return new MemoryTransport(this, o);
  }

  /** Messages from `from` to `to` vanish until unblocked (one direction). */
  block(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}\u0000${to}`);
  }

  unblock(from: NodeId, to: NodeId): void {
    this.blocked.delete(`${from}\u0000${to}`);
  }

  /** Blocks every link between the two sides, both directions. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.block(x, y);
        this.block(y, x);
      }
    }
  }

  /** Cuts `node` off from every other endpoint (known now). */
  isolate(node: NodeId): void {
    this.partition([node], [...this.endpoints.keys()].filter((n) => n !== node));
  }

  /** Removes every block. */
  heal(): void {
    this.blocked.clear();
  }

  /** Each message (and request/response) is lost with probability `p`. */
  setDropRate(p: number): void {
    this.dropRate = Math.min(1, Math.max(0, p));
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}\u0000${to}`);
  }

  /** Messages queued on the link and not yet delivered. */
  inFlight(from: NodeId, to: NodeId): number {
    const l = this.links.get(`${from}\u0000${to}`);
    return l ? l.queue.length - l.head : 0;
  }

  // ------------------------------------------------------------------ used by endpoints

  /** @internal */
  attach(t: MemoryTransport): void {
    const cur = this.endpoints.get(t.nodeId);
    if (cur && cur !== t) throw new TransportError('HANDSHAKE_FAILED', `node id ${t.nodeId} is already listening on this hub`);
    this.endpoints.set(t.nodeId, t);
  }

  /** @internal */
  detach(t: MemoryTransport): void {
    if (this.endpoints.get(t.nodeId) !== t) return;
    this.endpoints.delete(t.nodeId);
    // Everything in flight to or from it is gone; peers with requests to it see the connection drop.
    for (const l of this.links.values()) {
      if (l.from === t.nodeId || l.to === t.nodeId) {
        l.queue = [];
        l.head = 0;
        l.bytes = 0;
      }
    }
    for (const e of this.endpoints.values()) e.peerWentAway(t.nodeId);
  }

  /** @internal */
  endpointOf(id: NodeId): MemoryTransport | undefined {
    return this.endpoints.get(id);
  }

  /** @internal */
  link(from: NodeId, to: NodeId): Link {
    const key = `${from}\u0000${to}`;
    let l = this.links.get(key);
    if (!l) this.links.set(key, (l = { from, to, queue: [], head: 0, bytes: 0 }));
    return l;
  }

  /** @internal Queues an item on a link (bounds are checked by the caller). */
  enqueue(l: Link, item: Item): void {
    l.queue.push(item);
    l.bytes += item.size;
    this.active.add(l);
    if (!this.pumping) {
      this.pumping = true;
      if (this.schedule === 'microtask') queueMicrotask(this.pump);
      else setImmediate(this.pump);
    }
  }

  private readonly pump = (): void => {
    this.pumping = false;
    const links = [...this.active];
    this.active.clear();
    for (const l of links) {
      // Only what was queued before this pump: anything sent while delivering waits for the next.
      const end = l.queue.length;
      while (l.head < end) {
        const item = l.queue[l.head]!;
        l.queue[l.head++] = undefined as unknown as Item;
        l.bytes -= item.size;
        this.deliverOne(l, item);
      }
      if (l.head === l.queue.length) {
        l.queue = [];
        l.head = 0;
      } else {
        this.active.add(l);
      }
    }
    if (this.active.size > 0 && !this.pumping) {
      this.pumping = true;
      if (this.schedule === 'microtask') queueMicrotask(this.pump);
      else setImmediate(this.pump);
    }
  };

  private deliverOne(l: Link, item: Item): void {
    const target = this.endpoints.get(l.to);
    const sender = this.endpoints.get(l.from);
    if (!target) {
      // Refused: the sender's request fails at once, as on a dropped connection.
      if (item.kind === 'request' && sender) sender.failRequest(item.id, new TransportError('UNREACHABLE', `peer ${l.to} is down`));
      this.stats.dropped++;
      return;
    }
    if (this.blocked.has(`${l.from}\u0000${l.to}`) || (this.dropRate > 0 && this.rand.float() < this.dropRate)) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    target.receive(l.from, item);
  }
}

export type MemoryTransportOptions = TransportOptions;

export class MemoryTransport extends TransportBase {
  private readonly hub: MemoryHub;
  private readonly pending = new PendingRequests();
  private readonly addresses = new Map<NodeId, string>();
  private readonly removed = new Set<NodeId>();
  /** Peers already reported unreachable during their current outage. */
  private readonly reported = new Set<NodeId>();
  private listening = false;
  private closed = false;

  constructor(hub: MemoryHub, o: MemoryTransportOptions) {
    super(resolveOptions(o, DEFAULT_MAX_FRAME_SIZE));
    this.hub = hub;
  }

  listen(): Promise<ListenAddress> {
    if (this.closed) return Promise.reject(new TransportError('CLOSED', 'transport is closed'));
    this.hub.attach(this);
    this.listening = true;
    return Promise.resolve({ host: 'memory', port: 0 });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.pending.failWhere(
      () => true,
      (p) => new TransportError('CLOSED', `transport closed with request ${p.id} to ${p.peer} pending`),
    );
    if (this.listening) this.hub.detach(this);
    this.listening = false;
    return Promise.resolve();
  }

  setPeer(nodeId: NodeId, host: string, port: number): void {
    this.addresses.set(nodeId, `${host}:${port}`);
    this.removed.delete(nodeId);
  }

  removePeer(nodeId: NodeId): void {
    this.addresses.delete(nodeId);
    this.removed.add(nodeId);
    this.pending.failWhere(
      (p) => p.peer === nodeId,
      () => new TransportError('CLOSED', `peer ${nodeId} removed`),
    );
  }

  addressOf(nodeId: NodeId): string | undefined {
    return this.addresses.get(nodeId) ?? (this.hub.endpointOf(nodeId) ? `memory://${nodeId}` : undefined);
  }

  trySend(groupId: string, msg: Message): SendStatus {
    if (this.closed) return 'CLOSED';
    const to = msg.to;
    if (!this.reachable(to)) return 'UNREACHABLE';
    const l = this.hub.link(this.nodeId, to);
    if (this.full(l)) return 'QUEUE_FULL';
    let bytes: Uint8Array | null = null;
    let size: number;
    try {
      if (this.hub.codec) {
        bytes = encodeMessage(msg);
        size = bytes.length;
      } else {
        size = messageSizeBound(msg);
      }
    } catch (e) {
      if (e instanceof TransportError) return 'INVALID_MESSAGE';
      throw e;
    }
    if (size > this.opts.maxFrameSize) return 'FRAME_TOO_LARGE';
    if (l.bytes > 0 && l.bytes + size > this.opts.maxQueueBytes) return 'QUEUE_FULL';
    this.hub.enqueue(l, { kind: 'raft', groupId, msg: bytes ? null : msg, bytes, size });
    return 'OK';
  }

  request(peer: NodeId, groupId: string, payload: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new TransportError('CLOSED', 'transport is closed'));
    if (!this.reachable(peer)) return Promise.reject(new TransportError('UNREACHABLE', `peer ${peer} is unreachable`));
    const l = this.hub.link(this.nodeId, peer);
    if (this.full(l) || (l.bytes > 0 && l.bytes + payload.length > this.opts.maxQueueBytes)) {
      return Promise.reject(new TransportError('QUEUE_FULL', `queue to ${peer} is full`));
    }
    if (payload.length > this.opts.maxFrameSize) {
      return Promise.reject(new TransportError('FRAME_TOO_LARGE', `request of ${payload.length} bytes exceeds the maximum`));
    }
    const { id, promise } = this.pending.create(peer, groupId, opts.timeoutMs ?? this.opts.requestTimeoutMs);
    this.hub.enqueue(l, { kind: 'request', groupId, id, payload: payload.slice(), size: payload.length });
    return promise;
  }

  /** @internal The hub delivers an item from `from`. */
  receive(from: NodeId, item: Item): void {
    if (this.closed) return;
    switch (item.kind) {
      case 'raft': {
        let msg = item.msg;
        if (!msg) {
          try {
            msg = decodeMessage(item.bytes!);
          } catch (e) {
            this.log.warn('undecodable raft message', { node: this.nodeId, from, error: String(e) });
            return;
          }
        }
        if (!this.dispatch(item.groupId, msg, from)) {
          this.warnThrottled(`unknown-group:${from}:${item.groupId}`, 'raft message for an unknown group', {
            node: this.nodeId,
            peer: from,
            groupId: item.groupId,
          });
          this.reply(from, {
            kind: 'error',
            id: 0,
            groupId: item.groupId,
            err: new TransportError('UNKNOWN_GROUP', `node ${this.nodeId} has no raft group '${item.groupId}'`, true),
            size: 0,
          });
        }
        return;
      }
      case 'request': {
        const { id, groupId } = item;
        this.handleRequest(groupId, item.payload, from).then(
          (resp) => {
            if (resp.length > this.opts.maxFrameSize) {
              this.reply(from, { kind: 'error', id, groupId, err: new TransportError('FRAME_TOO_LARGE', 'response too large', true), size: 0 });
              return;
            }
            this.reply(from, { kind: 'response', id, payload: resp.slice(), size: resp.length });
          },
          (err: TransportError) =>
            this.reply(from, { kind: 'error', id, groupId, err: new TransportError(err.code, err.message, true), size: 0 }),
        );
        return;
      }
      case 'response':
        this.pending.resolve(item.id, item.payload, from);
        return;
      case 'error':
        if (item.id !== 0 && this.pending.reject(item.id, item.err, from)) return;
        this.warnThrottled(`remote-error:${from}:${item.err.code}:${item.groupId}`, 'peer reported an error', {
          node: this.nodeId,
          peer: from,
          groupId: item.groupId,
          code: item.err.code,
          error: item.err.message,
        });
        return;
    }
  }

  /** @internal A request's target went down before it was delivered. */
  failRequest(id: number, err: TransportError): void {
    this.pending.reject(id, err);
  }

  /** @internal `peer` closed: its connection with us drops. */
  peerWentAway(peer: NodeId): void {
    const n = this.pending.failWhere(
      (p) => p.peer === peer,
      () => new TransportError('UNREACHABLE', `connection to ${peer} lost`),
    );
    if (n > 0 || this.hub.inFlight(this.nodeId, peer) > 0) this.markUnreachable(peer);
  }

  private reply(to: NodeId, item: Item): void {
    if (this.closed || !this.hub.endpointOf(to)) return;
    this.hub.enqueue(this.hub.link(this.nodeId, to), item);
  }

  private reachable(peer: NodeId): boolean {
    if (peer === this.nodeId || this.removed.has(peer) || !this.hub.endpointOf(peer)) {
      if (peer !== this.nodeId) this.markUnreachable(peer);
      return false;
    }
    this.reported.delete(peer);
    return true;
  }

  private markUnreachable(peer: NodeId): void {
    if (this.reported.has(peer)) return;
    this.reported.add(peer);
    this.notifyUnreachable(peer);
  }

  private full(l: { queue: unknown[]; head: number; bytes: number }): boolean {
    return l.queue.length - l.head >= this.opts.maxQueueMessages || l.bytes >= this.opts.maxQueueBytes;
  }
}
