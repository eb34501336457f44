// LmdbEngine on a real directory: committed data survives close and reopen; rolled-back data
// does not.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { KvPair } from '../../src/kv/engine/engine.js';
import { LmdbEngine } from '../../src/kv/engine/lmdb-engine.js';

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const hex = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : Buffer.from(u).toString('hex'));
const keys = (pairs: readonly KvPair[]): string[] => pairs.map((p) => hex(p.key)!);
const freshDir = (): string => join(mkdtempSync(join(tmpdir(), 'raftkv-lmdb-')), 'db');

describe('LmdbEngine persistence', () => {
  it('keeps committed data across close and reopen, not rolled-back data', async () => {
    const dir = freshDir();
    let e = LmdbEngine.open(dir);
    e.transaction((tx) => {
      for (let i = 0; i < 100; i++) tx.put(b(7, i), b(i, i));
    });
    assert.throws(() =>
      e.transaction((tx) => {
        tx.put(b(8), b(8));
        throw new Error('rolled back');
      }),
    );
    await e.close();
    await e.close(); // idempotent
    assert.throws(() => e.get(b(7, 1)), /closed/);

    e = LmdbEngine.open(dir);
    try {
      assert.equal(e.count(), 100);
      assert.equal(hex(e.get(b(7, 42))), hex(b(42, 42)));
      assert.equal(e.get(b(8)), undefined);
      e.transaction((tx) => tx.deleteRange(b(7, 0), b(7, 50)));
    } finally {
      await e.close();
    }
    e = LmdbEngine.open(dir);
    try {
      assert.deepEqual(keys(e.scan({ limit: 1 })), [hex(b(7, 50))]);
      assert.equal(e.count(), 50);
    } finally {
      await e.close();
    }
  });
});
