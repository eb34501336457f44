// The core's only source of randomness is injected. `Rand` is the interface; `seededRand` is a
// small deterministic generator (sfc32) used by the simulator and tests so a seed replays exactly.

export interface Rand {
  /** A uniformly distributed integer in [0, n). n >= 1. */
  int(n: number): number;
}

/** sfc32 seeded through splitmix32: fast, 128-bit state, good enough for simulation. */
export function seededRand(seed: number): Rand & { float(): number } {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  const float = (): number => next() / 4294967296;
  return {
    int(n: number): number {
      return Math.floor(float() * n);
    },
    float,
  };
}
