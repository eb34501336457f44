// A distributed lock object over the store's lease locks (RheaKV's DistributedLock): tryLock()
// acquires (re-entrant for the same acquirer), unlock() releases, and the optional watchdog
// renews the lease (keepLease) every leaseMs/3 until unlock(). The watchdog stops on the first
// failed renewal: the lock is then considered lost, and the lease runs out on its own.

import type { Key } from './keys.js';
import type { LockOptions, LockResult } from './types.js';

export interface LockOps {
  lock(key: Key, o: LockOptions): Promise<LockResult>;
  unlock(key: Key, acquirerId?: string): Promise<LockResult>;
}

export class DistributedLock {
  private token: number | undefined;
  private held = false;
  private timer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;
  private watching = false;
  /** Successful watchdog renewals. */
  renewals = 0;
  /** Why the watchdog stopped, when it stopped on a failure. */
  lastRenewError: unknown;

  constructor(
    private readonly ops: LockOps,
    readonly key: Key,
    readonly acquirerId: string,
    readonly leaseMs: number,
    private readonly watchdog: boolean,
    private readonly tracker: Set<DistributedLock>,
  ) {}

  /** The fencing token of the current hold (undefined before the first success). */
  get fencingToken(): number | undefined {
    return this.token;
  }

  /** Whether this lock believes it holds the lock. */
  get isHeld(): boolean {
    return this.held;
  }

  /** Whether the watchdog is renewing. */
  get watchdogRunning(): boolean {
    return this.watching;
  }

  /** Tries once to acquire; true on success (also on re-entry). */
  async tryLock(): Promise<boolean> {
    const r = await this.ops.lock(this.key, { acquirerId: this.acquirerId, leaseMs: this.leaseMs });
    if (!r.success) return false;
    this.token = r.fencingToken;
    this.held = true;
    if (this.watchdog) this.startWatchdog();
    return true;
  }

  /** Releases one hold (stops the watchdog first). */
  async unlock(): Promise<LockResult> {
    this.stop();
    if (this.renewing) await this.renewing;
    const r = await this.ops.unlock(this.key, this.acquirerId);
    if (!r.success || r.count === 0) this.held = false;
    else if (this.watchdog) this.startWatchdog();
    return r;
  }

  /** Stops the watchdog (the client's close() calls it). */
  stop(): void {
    this.watching = false;
    this.tracker.delete(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private startWatchdog(): void {
    if (this.watching) return;
    this.watching = true;
    this.tracker.add(this);
    this.schedule();
  }

  private schedule(): void {
    if (!this.watching) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.renewing = this.renew().finally(() => {
        this.renewing = null;
      });
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    try {
      const r = await this.ops.lock(this.key, { acquirerId: this.acquirerId, leaseMs: this.leaseMs, keepLease: true });
      if (!this.watching) return;
      if (!r.success || r.fencingToken !== this.token) {
        // Someone else holds it, or our lease lapsed before this renewal (a new token): lost.
        this.lastRenewError = new Error(r.success ? `lease lapsed: fencing token changed ${this.token} -> ${r.fencingToken}` : `lock held by ${r.owner}`);
        this.held = false;
        this.stop();
        return;
      }
      this.renewals++;
      this.schedule();
    } catch (e) {
      this.lastRenewError = e;
      this.held = false;
      this.stop();
    }
  }
}
