// Linearizable reads waiting for their read point and then for the state machine to reach it.

import type { ReadFailure } from '../core/types.js';
import { RaftNodeError } from './errors.js';

interface PendingRead {
  readonly deadlineMs: number;
  /** Read point, once the core has confirmed one. */
  index: number | undefined;
  readonly resolve: (index: number) => void;
  readonly reject: (e: Error) => void;
}

export class PendingReads {
  private nextId = 1;
  private readonly byId = new Map<string, PendingRead>();

  get size(): number {
    return this.byId.size;
  }

  /** Registers a read; returns its request id and the promise of its read point. */
  add(deadlineMs: number): { id: string; done: Promise<number> } {
    const id = `r${this.nextId++}`;
    const done = new Promise<number>((resolve, reject) => {
      this.byId.set(id, { deadlineMs, index: undefined, resolve, reject });
    });
    return { id, done };
  }

  confirmed(id: string, index: number, appliedIndex: number): void {
    const r = this.byId.get(id);
    if (!r) return;
    if (index <= appliedIndex) {
      this.byId.delete(id);
      r.resolve(index);
    } else {
      r.index = index;
    }
  }

  failed(f: ReadFailure, leaderAddress: string | undefined): void {
    const r = this.byId.get(f.requestId);
    if (!r) return;
    this.byId.delete(f.requestId);
    const code = f.code === 'NO_LEADER' ? 'NO_LEADER' : 'NOT_LEADER';
    r.reject(new RaftNodeError(code, `read index failed: ${f.code}${f.leader ? ` (leader ${f.leader})` : ''}`, { id: f.leader, address: leaderAddress }));
  }

  /** The state machine applied up to `appliedIndex`: serve the reads whose point it reached. */
  applied(appliedIndex: number): void {
    for (const [id, r] of this.byId) {
      if (r.index !== undefined && r.index <= appliedIndex) {
        this.byId.delete(id);
        r.resolve(r.index);
      }
    }
  }

  expire(nowMs: number): void {
    for (const [id, r] of this.byId) {
      if (r.deadlineMs > nowMs) continue;
      this.byId.delete(id);
      r.reject(new RaftNodeError('TIMEOUT', r.index === undefined ? 'read index was not confirmed in time' : `state machine did not reach read point ${r.index} in time`));
    }
  }

  failAll(err: Error): void {
    for (const r of this.byId.values()) r.reject(err);
    this.byId.clear();
  }
}
