// The simulated disk of one node: how long a write (with its fsync) takes. Writes of a node are
// serial (the Ready protocol allows only one outstanding), so a write's completion time is just
// now + latency, stretched by stalls: occasional random slow writes and nemesis-imposed "slow
// disk" periods.

import { type SimRand, chance, uniform } from './rng.js';

export interface DiskProfile {
  minMs: number;
  maxMs: number;
  /** Probability that one write stalls for 10..200 ms. */
  slowRate: number;
}

export class Disk {
  /** Until this virtual time every write completes no earlier than this time. */
  stalledUntil = 0;
  writes = 0;

  constructor(
    private readonly rand: SimRand,
    private readonly profile: DiskProfile,
  ) {}

  /** Completion time of a write started at `now`. */
  completion(now: number, sync: boolean): number {
    this.writes++;
    let lat = uniform(this.rand, this.profile.minMs, sync ? this.profile.maxMs : this.profile.minMs * 2);
    if (chance(this.rand, this.profile.slowRate)) lat += uniform(this.rand, 10, 200);
    return Math.max(now + lat, this.stalledUntil);
  }

  /** Makes every write until `until` wait for it (a stalled or very slow device). */
  stall(until: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, until);
  }
}
