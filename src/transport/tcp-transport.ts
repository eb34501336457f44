// The TCP transport: one connection per peer pair, shared by every Raft group of the process.
//
// Peers are known by stable node id; setPeer() says where one listens. A connection is dialed
// lazily (first message or request for the peer) and re-dialed with exponential backoff and
// jitter after it is lost or a dial fails, for as long as the peer stays configured. Frames
// queued while a dial is in flight wait in a per-peer queue; while a peer is in backoff,
// messages are dropped at once (trySend says UNREACHABLE) so Raft never acts on stale traffic.
//
// Connections are symmetric: after the handshake either side sends on it, so two nodes share a
// single connection whoever dialed. The handshake (handshake.ts) keeps it single:
//   * A HELLO from a peer we have no connection with is accepted.
//   * Both sides dialing at once: the connection dialed by the smaller node id wins; the other
//     side's HELLO is refused with DUPLICATE_CONNECTION (and the loser aborts its own dial when
//     it accepts the winner's HELLO), so both ends settle on the same connection.
//   * A HELLO from a peer we already have an open connection with: if its incarnation differs
//     the peer restarted, the old connection is dead and is replaced; if it is the same, the
//     HELLO is a stale duplicate and is refused (the peer retries after backoff if it really
//     lost its side).
// The dialer also names the node it expects; the acceptor refuses a wrong id or cluster with
// HANDSHAKE_FAILED, so a misconfigured address never silently delivers to the wrong node.
//
// Raft messages for a group without a handler get an UNKNOWN_GROUP error frame back (at most one
// per group per connection per second) and a throttled warning; the connection stays up. Bad
// input (garbage, oversized frame, unknown version or kind, truncated frame, undecodable
// message) closes only the connection it arrived on (tcp-connection.ts).

import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Backoff } from './backoff.js';
import { ByteWriter } from './binary.js';
import { TransportError } from './errors.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  FrameKind,
  beginFrame,
  decodeErrorPayload,
  encodeErrorFrame,
  encodeFrame,
  endFrame,
  writeRaftFrame,
} from './frame.js';
import type { Frame } from './frame.js';
import { HANDSHAKE_MAX_FRAME, decodeHello, encodeHello, newIncarnation } from './handshake.js';
import { PendingRequests } from './pending-requests.js';
import { decodeMessage } from './raft-codec.js';
import { Connection, FlushScheduler } from './tcp-connection.js';
import type { Outbox } from './tcp-connection.js';
import { TransportBase, resolveOptions } from './transport-base.js';
import type { ListenAddress, RequestOptions, SendStatus, TransportOptions } from './transport.js';
import type { Message, NodeId } from '../raft/core/types.js';

export interface TcpTransportOptions extends TransportOptions {
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Listen port; 0 picks a free one. Default 0. */
  port?: number;
  /** Reconnect backoff: first delay. Default 50 ms. */
  backoffBaseMs?: number;
  /** Reconnect backoff: largest delay. Default 2000 ms. */
  backoffMaxMs?: number;
  /** Dial + handshake must complete within this. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** TCP keep-alive initial delay; 0 turns it off. Default 10000 ms. */
  keepAliveMs?: number;
  /** A connection with nothing sent for this long gets a PING frame. Default 1000 ms. */
  pingIntervalMs?: number;
  /**
   * A connection with nothing received for this long is presumed dead (peer host gone, network
   * black hole) and closed, so the peer is reported unreachable and re-dialed. 0 turns it off.
   * Default 5000 ms. Must exceed pingIntervalMs (the peer's) comfortably.
   */
  idleTimeoutMs?: number;
  /** Random source for backoff jitter. Default Math.random. */
  random?: () => number;
}

const PING_FRAME = encodeFrame(FrameKind.Ping, '', 0, new Uint8Array(0));

export interface TcpTransportStats {
  /** Connections past the handshake. */
  readonly openConnections: number;
  /** Sockets of any state (handshaking, closing included). */
  readonly sockets: number;
  readonly dialed: number;
  readonly accepted: number;
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly dropped: number;
  readonly pendingRequests: number;
}

/** Frames waiting for a dial to complete. */
class WaitQueue implements Outbox {
  readonly out = new ByteWriter(16 * 1024);
  outCount = 0;
  queuedBytes(): number {
    return this.out.pos;
  }
  markDirty(): void {}
}

interface Peer {
  readonly id: NodeId;
  host: string | null;
  port: number;
  /** The open connection (handshake done), if any. */
  active: Connection | null;
  /** Our dial in flight (connecting or handshaking), if any. */
  dialing: Connection | null;
  wait: WaitQueue | null;
  reconnectTimer: NodeJS.Timeout | null;
  readonly backoff: Backoff;
}

export class TcpTransport extends TransportBase {
  private readonly host: string;
  private readonly port: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly handshakeTimeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly pingIntervalMs: number;
  private readonly idleTimeoutMs: number;
  private livenessTimer: NodeJS.Timeout | null = null;
  private readonly random: () => number;
  private readonly incarnation = newIncarnation();
  private readonly peers = new Map<NodeId, Peer>();
  private readonly conns = new Set<Connection>();
  private readonly pending = new PendingRequests();
  private readonly scheduler = new FlushScheduler();
  private readonly unknownGroupSent = new WeakMap<Connection, Map<string, number>>();
  private server: net.Server | null = null;
  private closing: Promise<void> | null = null;
  private counters = { dialed: 0, accepted: 0, framesSent: 0, framesReceived: 0, dropped: 0 };

  constructor(o: TcpTransportOptions) {
    super(resolveOptions(o, DEFAULT_MAX_FRAME_SIZE));
    this.host = o.host ?? '127.0.0.1';
    this.port = o.port ?? 0;
    this.backoffBaseMs = o.backoffBaseMs ?? 50;
    this.backoffMaxMs = o.backoffMaxMs ?? 2000;
    this.handshakeTimeoutMs = o.handshakeTimeoutMs ?? 5000;
    this.keepAliveMs = o.keepAliveMs ?? 10_000;
    this.pingIntervalMs = o.pingIntervalMs ?? 1000;
    this.idleTimeoutMs = o.idleTimeoutMs ?? 5000;
    this.random = o.random ?? Math.random;
  }

  // ------------------------------------------------------------------ lifecycle

  async listen(): Promise<ListenAddress> {
    if (this.closing) throw new TransportError('CLOSED', 'transport is closed');
    if (this.server) return this.address();
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    server.on('connection', (s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: this.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log.warn('listener error', { node: this.nodeId, error: String(e) }));
    this.server = server;
    const a = this.address();
    this.log.info('listening', { node: this.nodeId, host: a.host, port: a.port });
    return a;
  }

  /** The bound address (after listen()). */
  address(): ListenAddress {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new TransportError('CLOSED', 'not listening');
    return { host: a.address, port: a.port };
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    this.livenessTimer = null;
    for (const p of this.peers.values()) this.clearReconnect(p);
    this.pending.failWhere(
      () => true,
      (p) => new TransportError('CLOSED', `transport closed with request ${p.id} to ${p.peer} pending`),
    );
    const server = this.server;
    const serverClosed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    const all = [...this.conns];
    for (const c of all) c.close(new TransportError('CLOSED', 'transport closed'), 250);
    await Promise.all([serverClosed, ...all.map((c) => c.closed)]);
    for (const p of this.peers.values()) p.wait = null;
  }

  get isClosed(): boolean {
    return this.closing !== null;
  }

  stats(): TcpTransportStats {
    let open = 0;
    for (const c of this.conns) if (c.state === 'open') open++;
    return { openConnections: open, sockets: this.conns.size, pendingRequests: this.pending.size, ...this.counters };
  }

  // ------------------------------------------------------------------ peers

  setPeer(nodeId: NodeId, host: string, port: number): void {
    if (nodeId === this.nodeId) return;
    const p = this.peer(nodeId);
    if (p.host === host && p.port === port) return;
    const moved = p.host !== null;
    p.host = host;
    p.port = port;
    p.backoff.reset();
    this.clearReconnect(p);
    if (moved) {
      // Connections we dialed went to the old address.
      const err = new TransportError('UNREACHABLE', `peer ${nodeId} moved to ${host}:${port}`);
      if (p.dialing) p.dialing.close(err);
      if (p.active?.dialed) p.active.close(err);
    }
  }

  removePeer(nodeId: NodeId): void {
    const p = this.peers.get(nodeId);
    if (!p) return;
    this.peers.delete(nodeId);
    this.clearReconnect(p);
    const err = new TransportError('CLOSED', `peer ${nodeId} removed`);
    this.pending.failWhere((r) => r.peer === nodeId, () => err);
    p.wait = null;
    p.dialing?.close(err);
    p.active?.close(err);
  }

  addressOf(nodeId: NodeId): string | undefined {
    const p = this.peers.get(nodeId);
    return p && p.host !== null ? `${p.host}:${p.port}` : undefined;
  }

  private peer(id: NodeId): Peer {
    let p = this.peers.get(id);
    if (!p) {
      p = {
        id,
        host: null,
        port: 0,
        active: null,
        dialing: null,
        wait: null,
        reconnectTimer: null,
        backoff: new Backoff({ baseMs: this.backoffBaseMs, maxMs: this.backoffMaxMs, random: this.random }),
      };
      this.peers.set(id, p);
    }
    return p;
  }

  // ------------------------------------------------------------------ sending

  trySend(groupId: string, msg: Message): SendStatus {
    if (this.closing) return 'CLOSED';
    const p = msg.to === this.nodeId ? undefined : this.peers.get(msg.to);
    if (!p) return this.drop('UNREACHABLE');
    const box = this.outbox(p);
    if (!box) return this.drop('UNREACHABLE');
    const before = box.queuedBytes();
    if (box.outCount >= this.opts.maxQueueMessages || before >= this.opts.maxQueueBytes) return this.drop('QUEUE_FULL');
    const w = box.out;
    const start = w.pos;
    try {
      writeRaftFrame(w, groupId, msg, this.opts.maxFrameSize);
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      this.warnThrottled(`encode:${e.code}`, 'message not sent', { to: msg.to, groupId, type: msg.type, code: e.code, error: e.message });
      return this.drop(e.code === 'FRAME_TOO_LARGE' ? 'FRAME_TOO_LARGE' : 'INVALID_MESSAGE');
    }
    if (before > 0 && before + (w.pos - start) > this.opts.maxQueueBytes) {
      w.pos = start;
      return this.drop('QUEUE_FULL');
    }
    box.outCount++;
    this.counters.framesSent++;
    box.markDirty();
    return 'OK';
  }

  request(peerId: NodeId, groupId: string, payload: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    if (this.closing) return Promise.reject(new TransportError('CLOSED', 'transport is closed', false, true));
    const p = peerId === this.nodeId ? undefined : this.peers.get(peerId);
    if (!p) return Promise.reject(new TransportError('UNREACHABLE', `unknown peer ${peerId}`, false, true));
    const box = this.outbox(p);
    if (!box) return Promise.reject(new TransportError('UNREACHABLE', `peer ${peerId} is unreachable (reconnecting)`, false, true));
    const before = box.queuedBytes();
    if (box.outCount >= this.opts.maxQueueMessages || before >= this.opts.maxQueueBytes) {
      this.counters.dropped++;
      return Promise.reject(new TransportError('QUEUE_FULL', `queue to ${peerId} is full`, false, true));
    }
    const { id, promise } = this.pending.create(peerId, groupId, opts.timeoutMs ?? this.opts.requestTimeoutMs);
    const w = box.out;
    const start = w.pos;
    try {
      const f = beginFrame(w, FrameKind.Request, groupId, id);
      w.raw(payload);
      endFrame(w, f, this.opts.maxFrameSize);
      if (before > 0 && before + (w.pos - start) > this.opts.maxQueueBytes) {
        w.pos = start;
        throw new TransportError('QUEUE_FULL', `queue to ${peerId} is full`);
      }
    } catch (e) {
      w.pos = start;
      const err = e instanceof TransportError ? e : new TransportError('INVALID_MESSAGE', String(e));
      this.pending.reject(id, err);
      return promise;
    }
    this.pending.get(id)!.via = box;
    box.outCount++;
    this.counters.framesSent++;
    box.markDirty();
    return promise;
  }

  private drop(s: SendStatus): SendStatus {
    this.counters.dropped++;
    return s;
  }

  /** Where frames for `p` go now: its open connection, or the wait queue of a dial; null if unreachable. */
  private outbox(p: Peer): Outbox | null {
    if (p.active) return p.active;
    if (!p.dialing) {
      // In backoff: drop, unless frames are being kept for a connection the peer is making.
      if (p.reconnectTimer) return p.wait;
      if (p.host === null) return null;
      this.dial(p);
    }
    return (p.wait ??= new WaitQueue());
  }

  // ------------------------------------------------------------------ connections

  private dial(p: Peer): void {
    if (this.closing || p.host === null) return;
    const socket = net.connect({ host: p.host, port: p.port, allowHalfOpen: true });
    const conn = this.wrap(socket, true, `${p.host}:${p.port}`);
    conn.peerId = p.id;
    p.dialing = conn;
    this.counters.dialed++;
    conn.writeFrame(
      // A peer id starting with '@' names an address, not a node ("whoever listens there": clients).
      encodeFrame(FrameKind.Hello, '', 0, encodeHello({ nodeId: this.nodeId, cluster: this.opts.cluster, peer: p.id.startsWith('@') ? '' : p.id, incarnation: this.incarnation })),
    );
    this.log.debug('dialing', { node: this.nodeId, peer: p.id, address: conn.remote });
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.counters.accepted++;
    this.wrap(socket, false, `${socket.remoteAddress}:${socket.remotePort}`);
  }

  private wrap(socket: net.Socket, dialed: boolean, remote: string): Connection {
    socket.setNoDelay(true);
    if (this.keepAliveMs > 0) socket.setKeepAlive(true, this.keepAliveMs);
    const conn = new Connection({
      socket,
      dialed,
      remote,
      scheduler: this.scheduler,
      logger: this.log,
      handshakeMaxFrame: HANDSHAKE_MAX_FRAME,
      hooks: {
        onFrame: (c, f) => this.onFrame(c, f),
        onDetach: (c, err) => this.onDetach(c, err),
        onClosed: (c) => this.conns.delete(c),
      },
    });
    this.conns.add(conn);
    conn.armHandshakeTimeout(this.handshakeTimeoutMs);
    this.startLiveness();
    return conn;
  }

  /** One timer for all connections: PING the idle ones, close the silent ones. */
  private startLiveness(): void {
    if (this.livenessTimer || this.closing) return;
    const every = Math.max(10, Math.min(this.pingIntervalMs, this.idleTimeoutMs > 0 ? this.idleTimeoutMs / 2 : Infinity));
    this.livenessTimer = setInterval(() => this.checkLiveness(), every);
    this.livenessTimer.unref();
  }

  private checkLiveness(): void {
    const now = Date.now();
    for (const c of this.conns) {
      if (c.state !== 'open') continue;
      if (this.idleTimeoutMs > 0 && now - c.lastRecvAt > this.idleTimeoutMs) {
        this.log.info('connection silent, closing', { node: this.nodeId, conn: c.describe(), silentMs: now - c.lastRecvAt });
        c.destroy(new TransportError('TIMEOUT', `nothing received from ${c.peerId} for ${now - c.lastRecvAt} ms`));
        continue;
      }
      if (now - c.lastSendAt >= this.pingIntervalMs && c.out.pos === 0) c.writeFrame(PING_FRAME);
    }
  }

  /** The handshake completed on `conn`: it becomes the peer's connection. */
  private activate(p: Peer, conn: Connection, incarnation: string): void {
    conn.incarnation = incarnation;
    conn.open(this.opts.maxFrameSize);
    p.active = conn;
    p.backoff.reset();
    this.clearReconnect(p);
    const wait = p.wait;
    p.wait = null;
    if (wait && wait.out.pos > 0) {
      conn.out.raw(wait.out.view());
      conn.outCount += wait.outCount;
      this.pending.retag((r) => r.via === wait, conn);
    }
    conn.markDirty();
    this.log.info('connected', { node: this.nodeId, peer: p.id, conn: conn.describe() });
  }

  private onDetach(conn: Connection, err: TransportError | null): void {
    const p = conn.peerId !== null ? this.peers.get(conn.peerId) : undefined;
    if (p && p.active === conn) {
      p.active = null;
      this.connectionLost(p, conn, err);
    } else if (p && p.dialing === conn) {
      p.dialing = null;
      this.dialFailed(p, conn, err);
    }
    const why = this.closing
      ? new TransportError('CLOSED', 'transport closed')
      : new TransportError('UNREACHABLE', `connection ${conn.describe()} lost${err ? `: ${err.message}` : ''}`);
    this.pending.failWhere(
      (r) => r.via === conn,
      () => why,
    );
  }

  private connectionLost(p: Peer, conn: Connection, err: TransportError | null): void {
    if (this.closing || this.peers.get(p.id) !== p) return;
    this.log.info('connection lost', { node: this.nodeId, peer: p.id, conn: conn.describe(), error: err?.message ?? 'closed by peer' });
    this.notifyUnreachable(p.id);
    // A peer we only knew from its own connection cannot be re-dialed: forget it until it calls again.
    if (p.host === null && !p.dialing) this.peers.delete(p.id);
    else this.scheduleReconnect(p);
  }

  private dialFailed(p: Peer, conn: Connection, err: TransportError | null): void {
    if (p.active) {
      // We accepted the peer's own connection meanwhile: the queued frames go there.
      const wait = p.wait;
      p.wait = null;
      if (wait && wait.out.pos > 0) {
        p.active.out.raw(wait.out.view());
        p.active.outCount += wait.outCount;
        this.pending.retag((r) => r.via === wait, p.active);
        p.active.markDirty();
      }
      return;
    }
    if (this.closing || this.peers.get(p.id) !== p) {
      p.wait = null;
      return;
    }
    if (err?.code === 'DUPLICATE_CONNECTION') {
      // The peer is connecting to us at the same moment and its connection wins: keep the
      // queued frames for it (activate() moves them over) and re-dial soon in case it does not.
      this.log.debug('dial refused as duplicate', { node: this.nodeId, peer: p.id });
      this.scheduleReconnect(p);
      return;
    }
    const wait = p.wait;
    p.wait = null;
    const why = err?.message ?? 'connection closed during handshake';
    if (wait) {
      this.pending.failWhere(
        (r) => r.via === wait,
        () => new TransportError('UNREACHABLE', `cannot reach ${p.id} at ${conn.remote}: ${why}`),
      );
    }
    if (err?.code === 'HANDSHAKE_FAILED' || err?.code === 'BAD_VERSION') {
      this.warnThrottled(`handshake:${p.id}`, 'handshake with peer failed', { node: this.nodeId, peer: p.id, address: conn.remote, error: why });
    } else {
      this.log.debug('dial failed', { node: this.nodeId, peer: p.id, address: conn.remote, error: why });
    }
    this.notifyUnreachable(p.id);
    this.scheduleReconnect(p);
  }

  private scheduleReconnect(p: Peer): void {
    if (this.closing || p.host === null || p.active || p.dialing || p.reconnectTimer) return;
    if (this.peers.get(p.id) !== p) return;
    const delay = p.backoff.next();
    p.reconnectTimer = setTimeout(() => {
      p.reconnectTimer = null;
      if (!this.closing && !p.active && !p.dialing && this.peers.get(p.id) === p) this.dial(p);
    }, delay);
  }

  private clearReconnect(p: Peer): void {
    if (p.reconnectTimer) {
      clearTimeout(p.reconnectTimer);
      p.reconnectTimer = null;
    }
  }

  // ------------------------------------------------------------------ receiving

  private onFrame(conn: Connection, f: Frame): void {
    if (conn.state === 'handshake') {
      if (conn.dialed) this.onHandshakeReply(conn, f);
      else this.onHello(conn, f);
      return;
    }
    if (conn.state !== 'open') return;
    this.counters.framesReceived++;
    switch (f.kind) {
      case FrameKind.Raft:
        this.onRaftFrame(conn, f);
        return;
      case FrameKind.Request:
        this.onRequestFrame(conn, f);
        return;
      case FrameKind.Response:
        if (!this.pending.resolve(f.requestId, f.payload, conn.peerId!)) {
          this.log.debug('response for an unknown request (timed out?)', { peer: conn.peerId, requestId: f.requestId });
        }
        return;
      case FrameKind.Ping:
        return; // lastRecvAt already moved
      case FrameKind.Error: {
        const err = decodeErrorPayload(f.payload);
        if (f.requestId !== 0 && this.pending.reject(f.requestId, err, conn.peerId!)) return;
        this.warnThrottled(`remote-error:${conn.peerId}:${err.code}:${f.groupId}`, 'peer reported an error', {
          node: this.nodeId,
          peer: conn.peerId,
          groupId: f.groupId,
          requestId: f.requestId,
          code: err.code,
          error: err.message,
        });
        return;
      }
      default:
        throw new TransportError('BAD_FRAME', `unexpected ${FrameKind[f.kind]} frame after the handshake`);
    }
  }

  /** Accepting side: the first frame must be HELLO. */
  private onHello(conn: Connection, f: Frame): void {
    if (f.kind !== FrameKind.Hello) throw new TransportError('BAD_FRAME', `expected HELLO, got ${FrameKind[f.kind]} frame`);
    const h = decodeHello(f.payload);
    if (h.cluster !== this.opts.cluster) {
      throw new TransportError(
        'HANDSHAKE_FAILED',
        `cluster name mismatch: node ${this.nodeId} is in cluster '${this.opts.cluster}', node ${h.nodeId} is in cluster '${h.cluster}'`,
      );
    }
    if (h.peer !== '' && h.peer !== this.nodeId) {
      throw new TransportError('HANDSHAKE_FAILED', `node ${h.nodeId} dialed node ${h.peer} but reached node ${this.nodeId}`);
    }
    if (h.nodeId === this.nodeId) throw new TransportError('HANDSHAKE_FAILED', `node ${this.nodeId} connected to itself`);
    conn.peerId = h.nodeId;
    const p = this.peer(h.nodeId);
    if (p.active) {
      if (p.active.incarnation === h.incarnation) {
        throw new TransportError('DUPLICATE_CONNECTION', `node ${this.nodeId} already has a connection with ${h.nodeId}`);
      }
      // The peer restarted: its old connection is dead even if we have not noticed yet.
      const old = p.active;
      p.active = null;
      this.pending.failWhere(
        (r) => r.via === old,
        () => new TransportError('UNREACHABLE', `peer ${h.nodeId} restarted`),
      );
      old.destroy(new TransportError('UNREACHABLE', `peer ${h.nodeId} restarted`));
    } else if (p.dialing) {
      if (h.nodeId > this.nodeId) {
        throw new TransportError('DUPLICATE_CONNECTION', `simultaneous dial: node ${this.nodeId} keeps its own connection to ${h.nodeId}`);
      }
      // Simultaneous dial and the peer's id is smaller: its connection wins, ours is dropped.
      const mine = p.dialing;
      p.dialing = null;
      mine.destroy(new TransportError('DUPLICATE_CONNECTION', 'superseded by the peer connection'));
    }
    conn.writeFrame(
      encodeFrame(FrameKind.HelloAck, '', 0, encodeHello({ nodeId: this.nodeId, cluster: this.opts.cluster, peer: h.nodeId, incarnation: this.incarnation })),
    );
    this.activate(p, conn, h.incarnation);
  }

  /** Dialing side: HELLO_ACK opens the connection, an ERROR refuses it. */
  private onHandshakeReply(conn: Connection, f: Frame): void {
    if (f.kind === FrameKind.Error) throw decodeErrorPayload(f.payload);
    if (f.kind !== FrameKind.HelloAck) throw new TransportError('BAD_FRAME', `expected HELLO_ACK, got ${FrameKind[f.kind]} frame`);
    const h = decodeHello(f.payload);
    if (h.cluster !== this.opts.cluster) {
      throw new TransportError('HANDSHAKE_FAILED', `cluster name mismatch: '${this.opts.cluster}' here, '${h.cluster}' at ${conn.remote}`);
    }
    const byAddress = conn.peerId?.startsWith('@') === true;
    if (!byAddress && h.nodeId !== conn.peerId) {
      throw new TransportError('HANDSHAKE_FAILED', `expected node ${conn.peerId} at ${conn.remote}, found node ${h.nodeId}`);
    }
    const p = this.peers.get(byAddress ? conn.peerId! : h.nodeId);
    if (!p || p.dialing !== conn) {
      conn.close(new TransportError('CLOSED', 'dial no longer wanted'));
      return;
    }
    p.dialing = null;
    this.activate(p, conn, h.incarnation);
  }

  private onRaftFrame(conn: Connection, f: Frame): void {
    const peer = conn.peerId!;
    if (!this.groups.has(f.groupId)) {
      this.warnThrottled(`unknown-group:${peer}:${f.groupId}`, 'raft message for an unknown group', {
        node: this.nodeId,
        peer,
        groupId: f.groupId,
      });
      this.sendUnknownGroup(conn, f.groupId);
      return;
    }
    const msg = decodeMessage(f.payload);
    if (msg.from !== peer || msg.to !== this.nodeId) {
      this.warnThrottled(`misaddressed:${peer}`, 'dropping a misaddressed raft message', {
        node: this.nodeId,
        peer,
        groupId: f.groupId,
        from: msg.from,
        to: msg.to,
      });
      return;
    }
    this.dispatch(f.groupId, msg, peer);
  }

  private sendUnknownGroup(conn: Connection, groupId: string): void {
    let sent = this.unknownGroupSent.get(conn);
    if (!sent) this.unknownGroupSent.set(conn, (sent = new Map()));
    const now = Date.now();
    const last = sent.get(groupId);
    if (last !== undefined && now - last < 1000) return;
    if (sent.size > 1024) sent.clear();
    sent.set(groupId, now);
    conn.writeFrame(encodeErrorFrame('UNKNOWN_GROUP', `node ${this.nodeId} has no raft group '${groupId}'`, groupId, 0));
  }

  private onRequestFrame(conn: Connection, f: Frame): void {
    const peer = conn.peerId!;
    const { groupId, requestId } = f;
    this.handleRequest(groupId, f.payload, peer).then(
      (resp) => {
        if (conn.state !== 'open') return;
        const w = conn.out;
        const start = w.pos;
        try {
          const s = beginFrame(w, FrameKind.Response, groupId, requestId);
          w.raw(resp);
          endFrame(w, s, this.opts.maxFrameSize);
        } catch (e) {
          w.pos = start;
          const err = e instanceof TransportError ? e : new TransportError('REMOTE_ERROR', String(e));
          conn.writeFrame(encodeErrorFrame(err.code, err.message, groupId, requestId));
          return;
        }
        conn.outCount++;
        conn.markDirty();
      },
      (err: TransportError) => {
        if (conn.state !== 'open') return;
        conn.writeFrame(encodeErrorFrame(err.code, err.message, groupId, requestId));
      },
    );
  }
}
