// Small, fast, deterministic 32-bit hashing used by the simulator: entry fingerprints, the state
// machine's hash chain and the trace hash. Not cryptographic; only needs to make accidental
// collisions in a single run vanishingly unlikely.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export const HASH_SEED = FNV_OFFSET;

/** Folds one 32-bit integer into a running hash. */
export function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v | 0), FNV_PRIME);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/** Folds a non-negative (possibly fractional) number, at 1/100 resolution. */
export function mixNumber(h: number, v: number): number {
  const scaled = Math.round(v * 100);
  return mix(mix(h, scaled % 0x100000000), Math.floor(scaled / 0x100000000));
}

export function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return mix(h >>> 0, s.length);
}

export function hashBytes(data: Uint8Array, h: number = FNV_OFFSET): number {
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, FNV_PRIME);
  return mix(h >>> 0, data.length);
}

export function hashString(s: string): number {
  return mixString(FNV_OFFSET, s);
}

export function hex(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}
