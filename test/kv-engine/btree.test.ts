// The B+-tree under MemoryEngine: random inserts/deletes/range deletes against a sorted model,
// with the structural invariants checked as it grows and shrinks (small orders force many
// splits, borrows and merges).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { BTree } from '../../src/kv/engine/btree.js';
import { compareBytes } from '../../src/kv/engine/engine.js';
import { seededRand } from '../../src/raft/core/random.js';

const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);

describe('BTree', () => {
  it('rejects orders below 4', () => {
    assert.throws(() => new BTree(3), RangeError);
  });

  for (const order of [4, 5, 16]) {
    it(`order ${order}: matches a model through growth and shrinkage`, () => {
      const rand = seededRand(order);
      const t = new BTree<number>(order);
      const model = new Map<string, number>();
      const sortedModel = (): string[] => [...model.keys()].sort();
      for (let step = 0; step < 6000; step++) {
        // grow for the first half, then mostly shrink
        const growing = step < 3000;
        const k = u32(rand.int(2000));
        const r = rand.int(100);
        if (r < (growing ? 70 : 25)) {
          t.set(k, step);
          model.set(hex(k), step);
        } else if (r < 98) {
          assert.equal(t.delete(k), model.delete(hex(k)));
        } else {
          const a = rand.int(2000);
          const z = a + rand.int(100);
          const n = t.deleteRange(u32(a), u32(z));
          let m = 0;
          for (const key of [...model.keys()]) {
            const v = parseInt(key, 16);
            if (v >= a && v < z) {
              model.delete(key);
              m++;
            }
          }
          assert.equal(n, m);
        }
        assert.equal(t.size, model.size);
        if (step % 500 === 0 || step === 5999) {
          t.checkInvariants();
          const all = sortedModel();
          const fwd: string[] = [];
          for (let c = t.seekGE(undefined); c.valid; c.advance()) fwd.push(hex(c.key));
          assert.deepEqual(fwd, all);
          const rev: string[] = [];
          for (let c = t.seekLT(undefined); c.valid; c.advance()) rev.push(hex(c.key));
          assert.deepEqual(rev, [...all].reverse());
          // seeks and counts from random bounds
          for (let j = 0; j < 20; j++) {
            const lo = u32(rand.int(2100));
            const hi = u32(rand.int(2100));
            const c = t.seekGE(lo);
            const expGE = all.find((x) => x >= hex(lo));
            assert.equal(c.valid ? hex(c.key) : undefined, expGE);
            const d = t.seekLT(hi);
            const expLT = [...all].reverse().find((x) => x < hex(hi));
            assert.equal(d.valid ? hex(d.key) : undefined, expLT);
            const inRange = all.filter((x) => x >= hex(lo) && x < hex(hi)).length;
            assert.equal(t.countRange(lo, hi), inRange);
            assert.equal(t.countRange(lo, undefined), all.filter((x) => x >= hex(lo)).length);
            assert.equal(t.countRange(undefined, hi), all.filter((x) => x < hex(hi)).length);
          }
        }
      }
      // drain completely
      for (const key of sortedModel()) t.delete(Uint8Array.from(Buffer.from(key, 'hex')));
      assert.equal(t.size, 0);
      t.checkInvariants();
      assert.equal(t.seekGE(undefined).valid, false);
    });
  }

  it('compares keys as unsigned bytes', () => {
    const t = new BTree<number>(4);
    const ks = [[0xff], [0x01, 0x00], [0x80], [0x01], [0x00], [0x01, 0xff], [0x7f]].map((a) => Uint8Array.from(a));
    ks.forEach((k, i) => t.set(k, i));
    const out: Uint8Array[] = [];
    for (let c = t.seekGE(undefined); c.valid; c.advance()) out.push(c.key);
    assert.deepEqual(out.map(hex), [...ks].sort(compareBytes).map(hex));
    assert.deepEqual(out.map(hex), ['00', '01', '0100', '01ff', '7f', '80', 'ff']);
  });
});
