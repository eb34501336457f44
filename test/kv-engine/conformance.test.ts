// One behavioural suite for every KvEngine implementation (a table of factories), plus a seeded
// random differential test of all of them against a trivially correct model. Every engine runs the
// same cases: the in-memory B+-tree and LMDB on a temporary directory.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { compareBytes, type EngineTx, type KvEngine, type KvPair, type ScanOptions } from '../../src/kv/engine/engine.js';
import { MAX_KEY_BYTES } from '../../src/kv/engine/common.js';
import { LmdbEngine } from '../../src/kv/engine/lmdb-engine.js';
import { MemoryEngine } from '../../src/kv/engine/memory-engine.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRand } from '../../src/raft/core/random.js';


interface Factory {
  readonly name: string;
  open(): KvEngine;
}

const factories: readonly Factory[] = [
  { name: 'memory', open: () => new MemoryEngine() },
  { name: 'memory (B-tree order 4)', open: () => new MemoryEngine({ order: 4 }) },
  { name: 'lmdb', open: () => LmdbEngine.open(join(mkdtempSync(join(tmpdir(), 'raftkv-lmdb-')), 'db')) },
];

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const enc = new TextEncoder();
const s = (str: string): Uint8Array => enc.encode(str);
const hex = (u: Uint8Array | undefined): string | undefined =>
  u === undefined ? undefined : Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex');
const keys = (pairs: readonly KvPair[]): string[] => pairs.map((p) => hex(p.key)!);
const kvs = (pairs: readonly KvPair[]): string[] => pairs.map((p) => `${hex(p.key)}=${hex(p.value)}`);

function putAll(e: KvEngine, entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): void {
  e.transaction((tx) => {
    for (const [k, v] of entries) tx.put(k, v);
  });
}

async function withEngine(f: Factory, body: (e: KvEngine) => void | Promise<void>): Promise<void> {
  const e = f.open();
  try {
    await body(e);
  } finally {
    await e.close();
  }
}

/** Keys in a shuffled insertion order whose unsigned-byte order is the array's order. */
const ORDERED = [b(0x00), b(0x01), b(0x01, 0x00), b(0x01, 0x00, 0x00), b(0x01, 0xff), b(0x02), b(0x7f), b(0x80), b(0xfe, 0xff), b(0xff), b(0xff, 0x00)];
const SHUFFLE = [7, 2, 10, 0, 5, 9, 3, 1, 8, 4, 6];

function loadOrdered(e: KvEngine): void {
  putAll(e, SHUFFLE.map((i) => [ORDERED[i]!, b(i)] as const));
}

const H = ORDERED.map((k) => hex(k)!);

for (const f of factories) {
  describe(`KvEngine conformance: ${f.name}`, () => {
    it('get / put / overwrite / delete', () =>
      withEngine(f, (e) => {
        assert.equal(e.get(s('a')), undefined);
        e.transaction((tx) => tx.put(s('a'), s('1')));
        assert.equal(hex(e.get(s('a'))), hex(s('1')));
        e.transaction((tx) => tx.put(s('a'), s('22')));
        assert.equal(hex(e.get(s('a'))), hex(s('22')));
        e.transaction((tx) => {
          tx.delete(s('a'));
          tx.delete(s('never-there'));
        });
        assert.equal(e.get(s('a')), undefined);
        assert.equal(e.count(), 0);
      }));

    it('approximateSize counts every entry and grows with the data', () =>
      withEngine(f, (e) => {
        const empty = e.approximateSize();
        assert.equal(empty.entries, 0);
        e.transaction((tx) => {
          for (let i = 0; i < 2000; i++) tx.put(s(`key-${String(i).padStart(5, '0')}`), new Uint8Array(300));
        });
        const full = e.approximateSize();
        assert.equal(full.entries, 2000);
        assert.ok(full.bytes >= 2000 * 300, `bytes ${full.bytes} cover the values`);
        e.transaction((tx) => tx.deleteRange(s('key-01000'), s('key-99999')));
        assert.equal(e.approximateSize().entries, 1000);
      }));

    it('stores empty values and returns plain Uint8Arrays', () =>
      withEngine(f, (e) => {
        e.transaction((tx) => tx.put(s('k'), new Uint8Array(0)));
        const v = e.get(s('k'));
        assert.ok(v !== undefined);
        assert.equal(v.length, 0);
        assert.equal(Object.getPrototypeOf(v), Uint8Array.prototype);
        const [p] = e.scan({});
        assert.equal(Object.getPrototypeOf(p!.key), Uint8Array.prototype);
        assert.equal(Object.getPrototypeOf(p!.value), Uint8Array.prototype);
      }));

    it('copies keys and values in and out', () =>
      withEngine(f, (e) => {
        const k = s('key');
        const v = s('value');
        e.transaction((tx) => tx.put(k, v));
        k[0] = 0; // the caller reuses its buffers
        v[0] = 0;
        assert.equal(hex(e.get(s('key'))), hex(s('value')));
        const got = e.get(s('key'))!;
        got[0] = 0; // the caller scribbles on what it got
        const [p] = e.scan({});
        p!.key[0] = 0;
        p!.value[0] = 0;
        assert.equal(hex(e.get(s('key'))), hex(s('value')));
        assert.deepEqual(keys(e.scan({})), [hex(s('key'))]);
      }));

    it('orders keys by unsigned bytes, shorter prefix first', () =>
      withEngine(f, (e) => {
        loadOrdered(e);
        assert.deepEqual(keys(e.scan({})), H);
        assert.deepEqual(keys(e.exportAll()), H);
        assert.deepEqual(keys(e.scan({ reverse: true })), [...H].reverse());
        assert.equal(e.count(), ORDERED.length);
      }));

    it('forward scan is exactly [start, end), with limit', () =>
      withEngine(f, (e) => {
        loadOrdered(e);
        // bounds that are keys: start included, end excluded
        assert.deepEqual(keys(e.scan({ start: b(0x01), end: b(0x02) })), H.slice(1, 5));
        // bounds between keys
        assert.deepEqual(keys(e.scan({ start: b(0x01, 0x00, 0x00, 0x00), end: b(0x7f, 0x00) })), H.slice(4, 7));
        assert.deepEqual(keys(e.scan({ start: b(0x01), limit: 2 })), H.slice(1, 3));
        assert.deepEqual(keys(e.scan({ end: b(0x01, 0x00) })), H.slice(0, 2));
        assert.deepEqual(keys(e.scan({ start: b(0xff, 0x00) })), H.slice(10));
        assert.deepEqual(keys(e.scan({ start: b(0xff, 0x00, 0x00) })), []);
        // values travel with their keys
        assert.deepEqual(kvs(e.scan({ start: b(0x7f), limit: 1 })), [`${H[6]}=${hex(b(6))}`]);
      }));

    it('reverse scan is exactly [start, end) too, highest first', () =>
      withEngine(f, (e) => {
        loadOrdered(e);
        const rev = (a: string[]): string[] => [...a].reverse();
        assert.deepEqual(keys(e.scan({ start: b(0x01), end: b(0x02), reverse: true })), rev(H.slice(1, 5)));
        assert.deepEqual(keys(e.scan({ start: b(0x01, 0x00, 0x00, 0x00), end: b(0x7f, 0x00), reverse: true })), rev(H.slice(4, 7)));
        // the limit keeps the highest keys
        assert.deepEqual(keys(e.scan({ start: b(0x01), end: b(0x80), reverse: true, limit: 2 })), [H[6], H[5]]);
        // no start: down to and including the smallest key [0x00] (lmdb-js's default stops above it)
        assert.deepEqual(keys(e.scan({ end: b(0x01, 0x00), reverse: true })), rev(H.slice(0, 2)));
        assert.deepEqual(keys(e.scan({ start: b(0x00), end: b(0x01), reverse: true })), [H[0]]);
        // no end: from the very last key
        assert.deepEqual(keys(e.scan({ start: b(0xfe), reverse: true })), rev(H.slice(8)));
        assert.deepEqual(keys(e.scan({ reverse: true, limit: 1 })), [H[10]]);
        assert.deepEqual(keys(e.scan({ end: b(0x00), reverse: true })), []);
      }));

    it('degenerate scans: empty, inverted, zero limit, odd bounds', () =>
      withEngine(f, (e) => {
        loadOrdered(e);
        for (const reverse of [false, true]) {
          assert.deepEqual(e.scan({ start: b(0x02), end: b(0x02), reverse }), []);
          assert.deepEqual(e.scan({ start: b(0x80), end: b(0x02), reverse }), []);
          assert.deepEqual(e.scan({ limit: 0, reverse }), []);
          assert.deepEqual(e.scan({ end: new Uint8Array(0), reverse }), []);
          // an empty start is no lower bound
          assert.equal(e.scan({ start: new Uint8Array(0), reverse }).length, ORDERED.length);
          // bounds longer than any storable key are still exact
          const long = new Uint8Array(MAX_KEY_BYTES + 10).fill(0x01);
          assert.deepEqual(keys(e.scan({ start: long, end: b(0x7f), reverse })).sort(), H.slice(4, 6));
          assert.deepEqual(keys(e.scan({ start: b(0x01), end: long, reverse })).sort(), H.slice(1, 4));
        }
        const long = new Uint8Array(MAX_KEY_BYTES + 10).fill(0x01);
        assert.equal(e.count(b(0x01), long), 3);
        assert.equal(e.count(long), ORDERED.length - 4);
      }));

    it('count with bounds', () =>
      withEngine(f, (e) => {
        assert.equal(e.count(), 0);
        loadOrdered(e);
        assert.equal(e.count(), 11);
        assert.equal(e.count(b(0x01)), 10);
        assert.equal(e.count(undefined, b(0x02)), 5);
        assert.equal(e.count(b(0x01), b(0x02)), 4);
        assert.equal(e.count(b(0x01, 0x01), b(0x7f, 0x00)), 3);
        assert.equal(e.count(b(0x02), b(0x01)), 0);
        assert.equal(e.count(b(0x02), b(0x02)), 0);
      }));

    it('deleteRange removes exactly [start, end)', () =>
      withEngine(f, (e) => {
        loadOrdered(e);
        e.transaction((tx) => tx.deleteRange(b(0x01, 0x00), b(0x7f)));
        assert.deepEqual(keys(e.scan({})), [H[0], H[1], ...H.slice(6)]);
        e.transaction((tx) => {
          tx.deleteRange(b(0xff), b(0xfe)); // inverted: nothing
          tx.deleteRange(b(0x7f), b(0x7f)); // empty: nothing
        });
        assert.equal(e.count(), 7);
        e.transaction((tx) => tx.deleteRange(b(0x00), b(0xff, 0xff)));
        assert.deepEqual(keys(e.scan({})), []);
      }));

    it('transaction: read-your-writes for get', () =>
      withEngine(f, (e) => {
        putAll(e, [[s('a'), s('1')], [s('c'), s('3')], [s('e'), s('5')]]);
        e.transaction((tx) => {
          assert.equal(hex(tx.get(s('a'))), hex(s('1')));
          tx.put(s('b'), s('2'));
          assert.equal(hex(tx.get(s('b'))), hex(s('2')));
          tx.put(s('a'), s('11'));
          assert.equal(hex(tx.get(s('a'))), hex(s('11')));
          tx.delete(s('c'));
          assert.equal(tx.get(s('c')), undefined);
          tx.put(s('c'), s('33'));
          assert.equal(hex(tx.get(s('c'))), hex(s('33')));
          tx.deleteRange(s('b'), s('d'));
          assert.equal(tx.get(s('b')), undefined);
          assert.equal(tx.get(s('c')), undefined);
          assert.equal(hex(tx.get(s('a'))), hex(s('11')));
          tx.put(s('bb'), s('x')); // a put after a deleteRange over its key
          assert.equal(hex(tx.get(s('bb'))), hex(s('x')));
        });
        assert.deepEqual(kvs(e.scan({})), [`${hex(s('a'))}=${hex(s('11'))}`, `${hex(s('bb'))}=${hex(s('x'))}`, `${hex(s('e'))}=${hex(s('5'))}`]);
      }));

    it('transaction: read-your-writes for scan, both directions, with limits', () =>
      withEngine(f, (e) => {
        putAll(e, ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => [s(k), s(k.toUpperCase())] as const));
        e.transaction((tx) => {
          tx.put(s('bb'), s('new'));
          tx.put(s('d'), s('D2'));
          tx.delete(s('c'));
          tx.deleteRange(s('e'), s('g'));
          tx.put(s('ee'), s('E2'));
          tx.put(s('h'), s('H'));
          tx.delete(s('zz')); // a tombstone for a key that never existed
          const all = ['a', 'b', 'bb', 'd', 'ee', 'g', 'h'].map((k) => hex(s(k))!);
          assert.deepEqual(keys(tx.scan({})), all);
          assert.deepEqual(keys(tx.scan({ reverse: true })), [...all].reverse());
          assert.deepEqual(keys(tx.scan({ start: s('b'), end: s('ee') })), all.slice(1, 4));
          assert.deepEqual(keys(tx.scan({ start: s('b'), end: s('ee'), reverse: true })), all.slice(1, 4).reverse());
          assert.deepEqual(keys(tx.scan({ start: s('bb'), limit: 3 })), all.slice(2, 5));
          assert.deepEqual(keys(tx.scan({ end: s('g'), reverse: true, limit: 2 })), [all[4], all[3]]);
          assert.deepEqual(kvs(tx.scan({ start: s('d'), end: s('e') })), [`${hex(s('d'))}=${hex(s('D2'))}`]);
        });
        const after = ['a', 'b', 'bb', 'd', 'ee', 'g', 'h'].map((k) => hex(s(k))!);
        assert.deepEqual(keys(e.scan({})), after);
      }));

    it('transaction: commits atomically and returns the function result', () =>
      withEngine(f, (e) => {
        const r = e.transaction((tx) => {
          for (let i = 0; i < 50; i++) tx.put(b(1, i), b(i));
          return 'done';
        });
        assert.equal(r, 'done');
        assert.equal(e.count(), 50);
        assert.equal(e.count(b(1, 10), b(1, 20)), 10);
      }));

    it('transaction: rolls back everything on throw', () =>
      withEngine(f, (e) => {
        putAll(e, [[s('a'), s('1')], [s('b'), s('2')], [s('c'), s('3')]]);
        const before = kvs(e.exportAll());
        assert.throws(
          () =>
            e.transaction((tx) => {
              tx.put(s('a'), s('changed'));
              tx.put(s('z'), s('new'));
              tx.delete(s('b'));
              tx.deleteRange(s('c'), s('d'));
              assert.equal(tx.scan({}).length, 2);
              throw new Error('boom');
            }),
          /boom/,
        );
        assert.deepEqual(kvs(e.exportAll()), before);
        // the engine is usable afterwards
        e.transaction((tx) => tx.put(s('d'), s('4')));
        assert.equal(e.count(), 4);
      }));

    it('transaction: rejects async functions, nesting, engine reads inside, stale tx', () =>
      withEngine(f, (e) => {
        assert.throws(
          () =>
            e.transaction((tx) => {
              tx.put(s('a'), s('1'));
              return Promise.resolve(1);
            }),
          /synchronous/,
        );
        assert.equal(e.get(s('a')), undefined); // rolled back
        let leaked: EngineTx | undefined;
        e.transaction((tx) => {
          leaked = tx;
          assert.throws(() => e.transaction(() => 0), /do not nest/);
          assert.throws(() => e.get(s('a')), /not allowed while a transaction/);
          assert.throws(() => e.scan({}), /not allowed while a transaction/);
        });
        assert.throws(() => leaked!.get(s('a')), /finished/);
        assert.throws(() => leaked!.put(s('a'), s('1')), /finished/);
        e.transaction((tx) => tx.put(s('b'), s('2')));
        assert.equal(e.count(), 1);
      }));

    it('key limits: empty and over-long keys are rejected on write, absent on read', () =>
      withEngine(f, (e) => {
        assert.throws(() => e.transaction((tx) => tx.put(new Uint8Array(0), s('v'))), RangeError);
        assert.throws(() => e.transaction((tx) => tx.put(new Uint8Array(MAX_KEY_BYTES + 1), s('v'))), RangeError);
        const max = new Uint8Array(MAX_KEY_BYTES).fill(0xab);
        e.transaction((tx) => {
          tx.put(max, s('v'));
          tx.delete(new Uint8Array(0));
          assert.equal(tx.get(new Uint8Array(0)), undefined);
        });
        assert.equal(hex(e.get(max)), hex(s('v')));
        assert.equal(e.get(new Uint8Array(0)), undefined);
        assert.equal(e.get(new Uint8Array(MAX_KEY_BYTES + 1)), undefined);
      }));

    it('exportAll / importAll round trip, across engines too', async () => {
      await withEngine(f, async (e) => {
        const rand = seededRand(7);
        const entries: Array<[Uint8Array, Uint8Array]> = [];
        for (let i = 0; i < 500; i++) {
          const k = Uint8Array.from({ length: 1 + rand.int(6) }, () => rand.int(256));
          entries.push([k, Uint8Array.from({ length: rand.int(40) }, () => rand.int(256))]);
        }
        putAll(e, entries);
        const image = e.exportAll();
        assert.equal(image.length, e.count());
        for (let i = 1; i < image.length; i++) assert.ok(compareBytes(image[i - 1]!.key, image[i]!.key) < 0);
        for (const g of factories) {
          await withEngine(g, (other) => {
            putAll(other, [[s('stale'), s('gone after import')]]);
            other.importAll(image);
            assert.deepEqual(kvs(other.exportAll()), kvs(image));
            assert.equal(other.get(s('stale')), undefined);
            // a bad pair leaves the old content in place
            const bad = [...image.slice(0, 3), { key: new Uint8Array(0), value: s('x') }];
            assert.throws(() => other.importAll(bad), RangeError);
            assert.deepEqual(kvs(other.exportAll()), kvs(image));
            other.importAll([]);
            assert.equal(other.count(), 0);
          });
        }
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Differential test: the same seeded random operations on every engine and on a trivial model.

type Op =
  | { t: 'put'; k: Uint8Array; v: Uint8Array }
  | { t: 'del'; k: Uint8Array }
  | { t: 'delRange'; s: Uint8Array; e: Uint8Array }
  | { t: 'get'; k: Uint8Array }
  | { t: 'scan'; o: ScanOptions };

const ALPHABET = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff];

class Model {
  constructor(public m = new Map<string, Uint8Array>()) {}
  clone(): Model {
    return new Model(new Map(this.m));
  }
  sorted(): KvPair[] {
    return [...this.m.entries()]
      .map(([k, v]) => ({ key: Uint8Array.from(Buffer.from(k, 'hex')), value: v }))
      .sort((x, y) => compareBytes(x.key, y.key));
  }
  scan(o: ScanOptions): KvPair[] {
    let r = this.sorted().filter(
      (p) =>
        (o.start === undefined || compareBytes(p.key, o.start) >= 0) &&
        (o.end === undefined || compareBytes(p.key, o.end) < 0),
    );
    if (o.reverse) r.reverse();
    if (o.limit !== undefined) r = r.slice(0, Math.max(0, o.limit));
    return r;
  }
  apply(op: Op): string | undefined {
    switch (op.t) {
      case 'put':
        this.m.set(hex(op.k)!, op.v);
        return undefined;
      case 'del':
        this.m.delete(hex(op.k)!);
        return undefined;
      case 'delRange':
        for (const p of this.scan({ start: op.s, end: op.e })) this.m.delete(hex(p.key)!);
        return undefined;
      case 'get':
        return String(hex(this.m.get(hex(op.k)!)));
      case 'scan':
        return kvs(this.scan(op.o)).join(',');
    }
  }
}

function applyToTx(tx: EngineTx, op: Op): string | undefined {
  switch (op.t) {
    case 'put':
      tx.put(op.k, op.v);
      return undefined;
    case 'del':
      tx.delete(op.k);
      return undefined;
    case 'delRange':
      tx.deleteRange(op.s, op.e);
      return undefined;
    case 'get':
      return String(hex(tx.get(op.k)));
    case 'scan':
      return kvs(tx.scan(op.o)).join(',');
  }
}

describe('KvEngine differential test (seeded random ops, all engines vs a model)', () => {
  it('agrees on every read over a few thousand random operations', async () => {
    const engines = factories.map((f) => f.open());
    try {
      const rand = seededRand(0x5eed);
      const key = (): Uint8Array => Uint8Array.from({ length: 1 + rand.int(3) }, () => ALPHABET[rand.int(ALPHABET.length)]!);
      const bound = (): Uint8Array | undefined => (rand.int(4) === 0 ? undefined : key());
      const scanOpts = (): ScanOptions => {
        const o: { start?: Uint8Array; end?: Uint8Array; reverse?: boolean; limit?: number } = {};
        const st = bound();
        const en = bound();
        if (st !== undefined) o.start = st;
        if (en !== undefined) o.end = en;
        if (rand.int(2) === 0) o.reverse = true;
        if (rand.int(3) === 0) o.limit = rand.int(8);
        return o;
      };
      const randomOp = (): Op => {
        const r = rand.int(100);
        if (r < 40) return { t: 'put', k: key(), v: Uint8Array.from({ length: rand.int(5) }, () => rand.int(256)) };
        if (r < 55) return { t: 'del', k: key() };
        if (r < 60) {
          // mostly narrow ranges: a key and a near successor
          const a = key();
          const z = rand.int(3) === 0 ? key() : Uint8Array.from([...a.subarray(0, a.length - 1), Math.min(255, a[a.length - 1]! + 1 + rand.int(3))]);
          return { t: 'delRange', s: a, e: z };
        }
        if (r < 80) return { t: 'get', k: key() };
        return { t: 'scan', o: scanOpts() };
      };

      let model = new Model();
      let txs = 0;
      let rollbacks = 0;
      for (let step = 0; step < 2500; step++) {
        if (rand.int(10) < 7) {
          const ops = Array.from({ length: 1 + rand.int(6) }, randomOp);
          const abort = rand.int(8) === 0;
          const txModel = model.clone();
          const expected = ops.map((op) => txModel.apply(op));
          for (const e of engines) {
            const got: Array<string | undefined> = [];
            const run = (): void =>
              e.transaction((tx) => {
                for (const op of ops) got.push(applyToTx(tx, op));
                if (abort) throw new Error('abort');
              });
            if (abort) assert.throws(run, /abort/);
            else run();
            assert.deepEqual(got, expected, `${e.name}: step ${step}, ops ${JSON.stringify(ops.map((o) => o.t))}`);
          }
          txs++;
          if (abort) rollbacks++;
          else model = txModel;
        } else {
          const which = rand.int(3);
          const o = scanOpts();
          const k = key();
          const expected =
            which === 0
              ? String(hex(model.m.get(hex(k)!)))
              : which === 1
                ? kvs(model.scan(o)).join(',')
                : String(model.scan({ ...(o.start ? { start: o.start } : {}), ...(o.end ? { end: o.end } : {}) }).length);
          for (const e of engines) {
            const got =
              which === 0 ? String(hex(e.get(k))) : which === 1 ? kvs(e.scan(o)).join(',') : String(e.count(o.start, o.end));
            assert.equal(got, expected, `${e.name}: step ${step}`);
          }
        }
      }
      assert.ok(txs > 1000 && rollbacks > 100, `exercised ${txs} transactions, ${rollbacks} rolled back`);
      const image = kvs(model.sorted());
      assert.ok(image.length > 50, 'the random data set is not trivially small');
      for (const e of engines) {
        assert.deepEqual(kvs(e.exportAll()), image, e.name);
        if (e instanceof MemoryEngine) e.checkInvariants();
      }
    } finally {
      for (const e of engines) await e.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
