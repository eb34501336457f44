// Random streams of one run. Every consumer (network, disk, workload, nemesis, each node
// incarnation) gets its own stream derived from the run seed, so that adding a draw in one place
// does not shift the numbers another place sees, and a run replays exactly from its seed.

import { type Rand, seededRand } from '../raft/core/random.js';
import { HASH_SEED, mix, mixString } from './hash.js';

export type SimRand = Rand & { float(): number };

/** A 32-bit seed for the stream named by `parts` within the run `seed`. */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  let h = mix(HASH_SEED, seed >>> 0);
  h = mix(h, Math.floor(seed / 0x100000000));
  for (const p of parts) h = typeof p === 'number' ? mix(h, p) : mixString(h, p);
  return h >>> 0;
}

export function stream(seed: number, ...parts: (string | number)[]): SimRand {
  return seededRand(deriveSeed(seed, ...parts));
}

export function chance(r: SimRand, p: number): boolean {
  return p > 0 && r.float() < p;
}

/** Uniform in [lo, hi), rounded to 1/100 ms so times stay readable. */
export function uniform(r: SimRand, lo: number, hi: number): number {
  return Math.round((lo + r.float() * (hi - lo)) * 100) / 100;
}

export function intIn(r: SimRand, lo: number, hi: number): number {
  return lo + r.int(hi - lo + 1);
}

export function pick<T>(r: SimRand, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[r.int(items.length)]!;
}

/** Picks an index according to non-negative weights (at least one positive). */
export function weighted(r: SimRand, weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let x = r.float() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i]!;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

export function shuffled<T>(r: SimRand, items: readonly T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}
