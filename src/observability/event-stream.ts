// GET /api/events: Server-Sent Events. Every store event as `event: store`, and a status tick
// every second as `event: status` (this store's status and the cluster view). The tick runs
// only while someone listens, so an unwatched store does no polling.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KvStore } from '../kv/store/kv-store.js';

/** A client this far behind (bytes buffered) is dropped rather than buffered without bound. */
const MAX_BUFFERED = 1 << 20;

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private ticking = false;

  constructor(
    private readonly store: KvStore,
    /** Builds the tick's payload (it may poll other stores). */
    private readonly tick: () => Promise<unknown>,
    private readonly intervalMs = 1000,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  add(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // retry: how soon the browser reconnects after losing the stream (e.g. a store restart).
    res.write(`retry: 1000\n\n`);
    this.clients.add(res);
    // The response's 'close' (not the request's): it fires when the connection goes away.
    const drop = (): void => this.remove(res);
    res.on('close', drop);
    res.on('error', drop);
    req.socket.setNoDelay(true); // small frames, sent as they happen
    if (!this.timer) {
      this.unsubscribe = this.store.on((e) => this.broadcast('store', e));
      this.timer = setInterval(() => void this.runTick(), this.intervalMs);
      this.timer.unref();
    }
    void this.runTick(); // the first status at once, not a second later
  }

  /** Ends every stream and stops ticking. */
  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private async runTick(): Promise<void> {
    if (this.ticking) return; // a slow poll (a peer timing out) must not pile up ticks
    this.ticking = true;
    try {
      const payload = await this.tick();
      this.broadcast('status', payload);
    } catch (e) {
      this.broadcast('error', { message: (e as Error).message });
    } finally {
      this.ticking = false;
    }
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED) {
        res.destroy();
        this.remove(res);
        continue;
      }
      res.write(frame);
    }
  }
}
