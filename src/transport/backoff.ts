// Exponential reconnect backoff with jitter: attempt n waits a random time in
// [cap/2, cap] where cap = min(max, base * 2^n), never below base.

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** A float in [0, 1); inject a seeded one for reproducible tests. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 50;
    this.maxMs = Math.max(this.baseMs, o.maxMs ?? 2000);
    this.random = o.random ?? Math.random;
  }

  /** The delay before the next attempt (and counts the attempt). */
  next(): number {
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const d = Math.round(cap * (0.5 + 0.5 * this.random()));
    return Math.min(this.maxMs, Math.max(this.baseMs, d));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
