// One framed TCP connection: a socket, its streaming frame decoder, and its outgoing batch.
//
// Outgoing frames are appended to `out` (a ByteWriter) by the transport and written with ONE
// socket.write per event-loop turn (FlushScheduler, setImmediate). While the socket is
// backpressured (write() returned false) nothing more is written until 'drain', so `out` grows
// and the transport's queue bounds (count and bytes) start to bite.
//
// Lifecycle: handshake -> open -> closing -> closed. "Detach" is the moment the connection stops
// being usable (it enters closing, or closes abruptly): the transport hears of it exactly once,
// through hooks.onDetach, to fail the requests riding on it and find a replacement.
// Bad input (decoder errors, or a TransportError thrown by hooks.onFrame) fails the connection:
// an ERROR frame goes out if the socket is still writable, the write side is ended, incoming
// bytes are ignored, and the socket is destroyed after a grace period if the peer does not close.

import type { Socket } from 'node:net';
import { ByteWriter } from './binary.js';
import { TransportError } from './errors.js';
import { FrameDecoder, encodeErrorFrame } from './frame.js';
import type { Frame } from './frame.js';
import type { Logger } from './logger.js';

export type ConnState = 'handshake' | 'open' | 'closing' | 'closed';

/** Where queued frames of a peer sit: an open connection, or the wait queue of a dial. */
export interface Outbox {
  readonly out: ByteWriter;
  outCount: number;
  queuedBytes(): number;
  markDirty(): void;
}

export interface ConnectionHooks {
  /** A complete frame. Throwing a TransportError fails the connection with it. */
  onFrame(conn: Connection, frame: Frame): void;
  /** The connection stopped being usable; `err` is null for an orderly close. Called once. */
  onDetach(conn: Connection, err: TransportError | null): void;
  /** The socket is fully closed. */
  onClosed(conn: Connection): void;
}

/** Flushes every dirty connection once per event-loop turn. */
export class FlushScheduler {
  private dirty: Connection[] = [];
  private scheduled = false;

  add(c: Connection): void {
    this.dirty.push(c);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const list = this.dirty;
    this.dirty = [];
    for (const c of list) c.flush();
  };
}

let nextConnectionId = 1;

export interface ConnectionOptions {
  readonly socket: Socket;
  /** True if this side dialed. */
  readonly dialed: boolean;
  /** For logs: "host:port" of the other side. */
  readonly remote: string;
  readonly hooks: ConnectionHooks;
  readonly scheduler: FlushScheduler;
  readonly logger: Logger;
  /** Frame size limit until the handshake completes (open() raises it). */
  readonly handshakeMaxFrame: number;
  /** Initial capacity of the outgoing batch buffer. */
  readonly batchCapacity?: number;
}

export class Connection implements Outbox {
  readonly id = nextConnectionId++;
  readonly socket: Socket;
  readonly dialed: boolean;
  readonly remote: string;
  state: ConnState = 'handshake';
  /** The peer's node id: expected (dialed) until the handshake confirms it, then authenticated. */
  peerId: string | null = null;
  /** The peer's incarnation (from the handshake). */
  incarnation = '';
  readonly out: ByteWriter;
  outCount = 0;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  bytesIn = 0;
  bytesOut = 0;
  /** Date.now() of the last bytes received / handed to the socket (for keep-alive). */
  lastRecvAt = Date.now();
  lastSendAt = Date.now();

  private readonly hooks: ConnectionHooks;
  private readonly scheduler: FlushScheduler;
  private readonly log: Logger;
  private readonly decoder: FrameDecoder;
  private dirty = false;
  private waitingDrain = false;
  private detached = false;
  private closeErr: TransportError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private resolveClosed!: () => void;

  constructor(o: ConnectionOptions) {
    this.socket = o.socket;
    this.dialed = o.dialed;
    this.remote = o.remote;
    this.hooks = o.hooks;
    this.scheduler = o.scheduler;
    this.log = o.logger;
    this.out = new ByteWriter(o.batchCapacity ?? 64 * 1024);
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.decoder = new FrameDecoder((f) => this.hooks.onFrame(this, f), { maxFrameSize: o.handshakeMaxFrame });
    const s = this.socket;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('end', () => this.onEnd());
    s.on('drain', () => {
      this.waitingDrain = false;
      this.flush();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      this.closeErr ??= new TransportError('UNREACHABLE', `connection ${this.describe()}: ${e.code ?? e.message}`);
    });
    s.on('close', () => this.onClose());
  }

  describe(): string {
    return `#${this.id} ${this.dialed ? 'to' : 'from'} ${this.peerId ?? '?'}@${this.remote}`;
  }

  /** Handshake done: frames up to `maxFrameSize` are accepted from now on. */
  open(maxFrameSize: number): void {
    if (this.state !== 'handshake') return;
    this.state = 'open';
    this.decoder.maxFrameSize = maxFrameSize;
    this.clearTimer();
  }

  /** Fails the connection with TIMEOUT unless open() is called within `ms`. */
  armHandshakeTimeout(ms: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state === 'handshake') {
        this.fail(new TransportError('TIMEOUT', `handshake on ${this.describe()} did not complete within ${ms} ms`));
      }
    }, ms);
  }

  /** Bytes not yet on the wire: the unsent batch and the socket's own buffer. */
  queuedBytes(): number {
    return this.out.pos + this.socket.writableLength;
  }

  get usable(): boolean {
    return this.state === 'handshake' || this.state === 'open';
  }

  markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.scheduler.add(this);
  }

  /** Queues a ready-made frame (control frames: handshake, responses, errors). */
  writeFrame(frame: Uint8Array): void {
    if (!this.usable) return;
    this.out.raw(frame);
    this.outCount++;
    this.markDirty();
  }

  /** Writes the batch with one socket.write, unless backpressured. */
  flush(): void {
    this.dirty = false;
    if (this.out.pos === 0 || this.waitingDrain || this.socket.destroyed || !this.socket.writable) return;
    const buf = this.out.take();
    this.outCount = 0;
    this.bytesOut += buf.length;
    this.lastSendAt = Date.now();
    if (!this.socket.write(buf, () => this.out.recycle(buf))) this.waitingDrain = true;
  }

  /**
   * Bad input or a protocol violation: tell the peer (ERROR frame, best effort), stop reading,
   * end the write side, and destroy the socket if the peer has not closed after `graceMs`.
   */
  fail(err: TransportError, sendErrorFrame = true, graceMs = 1000): void {
    if (!this.usable) return;
    this.closeErr ??= err;
    this.detach(err);
    this.out.reset();
    this.outCount = 0;
    const s = this.socket;
    if (sendErrorFrame && s.writable && !s.destroyed) {
      try {
        s.write(encodeErrorFrame(err.code, err.message));
      } catch {
        // best effort
      }
    }
    this.endAndLinger(graceMs);
  }

  /** Orderly close: flush what is queued, end the write side, destroy after `graceMs`. */
  close(err: TransportError | null = null, graceMs = 1000): void {
    if (!this.usable) return;
    this.detach(err);
    this.flush();
    this.endAndLinger(graceMs);
  }

  /** Immediate close, queued bytes lost. */
  destroy(err: TransportError | null = null): void {
    if (this.state === 'closed') return;
    this.detach(err);
    this.socket.destroy();
  }

  private endAndLinger(graceMs: number): void {
    this.state = 'closing';
    if (!this.socket.destroyed) this.socket.end();
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.socket.destroy();
    }, graceMs);
    this.timer.unref();
  }

  private detach(err: TransportError | null): void {
    if (this.state === 'handshake' || this.state === 'open') this.state = 'closing';
    if (this.detached) return;
    this.detached = true;
    this.hooks.onDetach(this, err);
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.lastRecvAt = Date.now();
    if (!this.usable) return; // failing or closing: input is ignored
    try {
      this.decoder.push(chunk);
    } catch (e) {
      this.onBadInput(e);
    }
  }

  private onEnd(): void {
    // The peer will send nothing more. A frame cut short is bad input; otherwise close in turn.
    if (!this.usable) {
      if (!this.socket.destroyed) this.socket.end();
      return;
    }
    try {
      this.decoder.end();
    } catch (e) {
      this.onBadInput(e);
      return;
    }
    this.close(null, 1000);
  }

  private onBadInput(e: unknown): void {
    const err = e instanceof TransportError ? e : new TransportError('BAD_FRAME', `internal error handling a frame: ${String(e)}`);
    if (!(e instanceof TransportError)) this.log.warn('frame handler failed', { conn: this.describe(), error: String(e) });
    // Errors the peer told us about (handshake rejections) are not bad input of the peer.
    if (err.code === 'DUPLICATE_CONNECTION') this.log.debug('refusing a duplicate connection', { conn: this.describe() });
    else if (!err.remote) this.log.warn('bad input, closing connection', { conn: this.describe(), code: err.code, error: err.message });
    this.fail(err, !err.remote);
  }

  private onClose(): void {
    this.clearTimer();
    const wasClosed = this.state === 'closed';
    this.state = 'closed';
    if (wasClosed) return;
    if (!this.detached) {
      this.detached = true;
      this.hooks.onDetach(this, this.closeErr);
    }
    this.resolveClosed();
    this.hooks.onClosed(this);
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
