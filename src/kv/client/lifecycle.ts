// The client's open/closed state, and waits that end early (with CLOSED) when it closes, so a
// closed client leaves no timers behind.

import { KvClientError } from './errors.js';

export class Lifecycle {
  private closed_ = false;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; reject: (e: Error) => void }>();
  private readonly onClose: Array<() => void> = [];
  private closeSignal: { promise: Promise<never>; reject: (e: Error) => void } | undefined;

  get closed(): boolean {
    return this.closed_;
  }

  /** Throws CLOSED once the client is closed. */
  check(): void {
    if (this.closed_) throw closedError();
  }

  /** Resolves after `ms`, or rejects with CLOSED when the client closes first. */
  sleep(ms: number): Promise<void> {
    if (this.closed_) return Promise.reject(closedError());
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const s = {
        timer: setTimeout(() => {
          this.sleepers.delete(s);
          resolve();
        }, ms),
        reject,
      };
      this.sleepers.add(s);
    });
  }

  /** `p`, or a CLOSED rejection as soon as the client closes (for requests on a transport the client does not own). */
  race<T>(p: Promise<T>): Promise<T> {
    if (this.closed_) return Promise.reject(closedError());
    if (!this.closeSignal) {
      let reject!: (e: Error) => void;
      const promise = new Promise<never>((_, rej) => {
        reject = rej;
      });
      promise.catch(() => {});
      this.closeSignal = { promise, reject };
    }
    return Promise.race([p, this.closeSignal.promise]);
  }

  /** Runs `fn` when the client closes. */
  whenClosed(fn: () => void): void {
    this.onClose.push(fn);
  }

  close(): void {
    if (this.closed_) return;
    this.closed_ = true;
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.reject(closedError());
    }
    this.sleepers.clear();
    this.closeSignal?.reject(closedError());
    for (const fn of this.onClose.splice(0)) fn();
  }
}

export function closedError(): KvClientError {
  return new KvClientError('CLOSED', 'the KV client is closed');
}

/** Exponential backoff with jitter: attempt n waits in [cap/2, cap], cap = min(maxMs, baseMs * 2^n). */
export function backoffMs(attempt: number, baseMs = 10, maxMs = 1000): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.max(1, Math.round(cap * (0.5 + Math.random() / 2)));
}
