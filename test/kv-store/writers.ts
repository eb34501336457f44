// Writers for the placement tests: `n` loops putting keys until stopped, every acknowledged
// write and every error kept, and a read-back of everything acknowledged.

import assert from 'node:assert/strict';
import type { KvClient } from '../../src/kv/client/index.js';

export interface Writers {
  /** key -> value, for every put that was acknowledged. */
  readonly acked: Map<string, string>;
  readonly errors: string[];
  /** Stops the loops and waits for the puts in flight. */
  stop(): Promise<void>;
}

/** `keyOf(i, w)`: the key of writer w's i-th put. Default: spread over 'k00000'..'k99999'. */
export function writers(kv: KvClient, n: number, keyOf: (i: number, w: number) => string = (i, w) => `k${String((i * 7919 + w * 104729) % 100_000).padStart(5, '0')}-${w}`): Writers {
  const acked = new Map<string, string>();
  const errors: string[] = [];
  let stopped = false;
  const loops = Array.from({ length: n }, async (_, w) => {
    for (let i = 0; !stopped; i++) {
      const k = keyOf(i, w);
      const v = `v${i}`;
      try {
        await kv.put(k, v);
        acked.set(k, v);
      } catch (e) {
        errors.push(`${k}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  return {
    acked,
    errors,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Every acknowledged write reads back with its value. */
export async function checkAll(kv: KvClient, acked: Map<string, string>): Promise<void> {
  for (const [k, v] of acked) assert.equal((await kv.get(k))?.toString(), v, `key ${k}`);
}

/** Keys over the whole alphabet, so writes land in every region of a split key space. */
export const alphabetKeys = (i: number, w: number): string => `${String.fromCharCode(97 + ((i * 7 + w) % 26))}${String(i).padStart(6, '0')}-${w}`;
