// Outstanding requests of one transport: request-id allocation, per-request timeouts, and
// failing every request that was riding on a connection that went away.

import { TransportError } from './errors.js';
import type { NodeId } from '../raft/core/types.js';

export interface PendingRequest {
  readonly id: number;
  readonly peer: NodeId;
  readonly groupId: string;
  /** What the request travels on (a connection, or null while it waits for one). */
  via: object | null;
  readonly resolve: (payload: Uint8Array) => void;
  readonly reject: (err: TransportError) => void;
  readonly timer: NodeJS.Timeout;
}

export class PendingRequests {
  private readonly map = new Map<number, PendingRequest>();
  private nextId = 1;

  get size(): number {
    return this.map.size;
  }

  /**
   * Registers a request; the returned promise settles with the response, an ERROR frame, a
   * TIMEOUT after `timeoutMs`, or whatever fail*() says.
   */
  create(peer: NodeId, groupId: string, timeoutMs: number): { id: number; promise: Promise<Uint8Array> } {
    const id = this.allocateId();
    let entry!: PendingRequest;
    const promise = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.map.get(id) !== entry) return;
        this.map.delete(id);
        reject(new TransportError('TIMEOUT', `request ${id} to ${peer} (group '${groupId}') timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      entry = { id, peer, groupId, via: null, resolve, reject, timer };
    });
    this.map.set(id, entry);
    return { id, promise };
  }

  get(id: number): PendingRequest | undefined {
    return this.map.get(id);
  }

  /** Settles request `id` with a response; false if it is unknown (timed out, failed). */
  resolve(id: number, payload: Uint8Array, from?: NodeId): boolean {
    const p = this.map.get(id);
    if (!p || (from !== undefined && p.peer !== from)) return false;
    this.map.delete(id);
    clearTimeout(p.timer);
    p.resolve(payload);
    return true;
  }

  reject(id: number, err: TransportError, from?: NodeId): boolean {
    const p = this.map.get(id);
    if (!p || (from !== undefined && p.peer !== from)) return false;
    this.map.delete(id);
    clearTimeout(p.timer);
    p.reject(err);
    return true;
  }

  /** Fails every request matching `pred` with the error `make` builds for it. */
  failWhere(pred: (p: PendingRequest) => boolean, make: (p: PendingRequest) => TransportError): number {
    let n = 0;
    for (const p of [...this.map.values()]) {
      if (!pred(p)) continue;
      this.map.delete(p.id);
      clearTimeout(p.timer);
      p.reject(make(p));
      n++;
    }
    return n;
  }

  /** Moves requests from one carrier to another (e.g. from a peer's wait queue to its connection). */
  retag(pred: (p: PendingRequest) => boolean, via: object): void {
    for (const p of this.map.values()) if (pred(p)) p.via = via;
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= 0xffffffff ? 1 : id + 1;
      if (!this.map.has(id)) return id;
    }
  }
}
