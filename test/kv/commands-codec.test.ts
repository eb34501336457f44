// Every KV command and result survives encode -> decode, at random sizes (including sizes that
// make the writer grow mid-message).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type KvCommand, KvOp, type KvResult, decodeCommand, decodeResult, encodeCommand, encodeResult } from '../../src/kv/commands.js';
import { seededRand } from '../../src/raft/core/random.js';

test('KV commands and results round-trip through the codec', () => {
  const r = seededRand(99);
  const bytes = (): Uint8Array => Uint8Array.from({ length: r.int(3) === 0 ? r.int(300) : r.int(12) }, () => r.int(256));
  const maybe = (): Uint8Array | null => (r.int(3) === 0 ? null : bytes());
  const list = <T>(f: () => T): T[] => Array.from({ length: r.int(40) }, f);
  const acquirer = () => ({ id: `a${r.int(1000)}`, leaseMs: r.int(1e6), stampMs: r.int(1e12) });
  const commands = (): KvCommand[] => [
    { op: KvOp.Put, key: bytes(), value: bytes() },
    { op: KvOp.PutIfAbsent, key: bytes(), value: bytes() },
    { op: KvOp.GetPut, key: bytes(), value: bytes() },
    { op: KvOp.Merge, key: bytes(), value: bytes() },
    { op: KvOp.ComparePut, key: bytes(), expect: maybe(), value: bytes() },
    { op: KvOp.PutList, entries: list(() => [bytes(), bytes()] as const) },
    { op: KvOp.ComparePutAll, entries: list(() => [bytes(), maybe(), bytes()] as const) },
    { op: KvOp.Delete, key: bytes() },
    { op: KvOp.DeleteList, keys: list(bytes) },
    { op: KvOp.DeleteRange, start: bytes(), end: bytes() },
    { op: KvOp.GetSequence, key: bytes(), step: r.int(1e9) },
    { op: KvOp.ResetSequence, key: bytes() },
    { op: KvOp.KeyLock, key: bytes(), acquirer: acquirer(), keepLease: r.int(2) === 1 },
    { op: KvOp.KeyLockRelease, key: bytes(), acquirer: acquirer() },
    { op: KvOp.NodeExecute, name: `cb${r.int(10)}`, payload: bytes() },
    { op: KvOp.Get, key: bytes() },
    { op: KvOp.MultiGet, keys: list(bytes) },
    { op: KvOp.ContainsKey, key: bytes() },
    { op: KvOp.Scan, start: maybe(), end: maybe(), limit: r.int(1000), returnValue: r.int(2) === 1 },
    { op: KvOp.ReverseScan, start: maybe(), end: maybe(), limit: r.int(1000), returnValue: r.int(2) === 1 },
  ];
  const results = (): KvResult[] => [
    { kind: 'ok' },
    { kind: 'bool', value: r.int(2) === 1 },
    { kind: 'value', value: maybe() },
    { kind: 'values', values: list(maybe) },
    { kind: 'pairs', pairs: list(() => [bytes(), maybe()] as const) },
    { kind: 'sequence', start: r.int(1e9), end: r.int(1e9) },
    { kind: 'lock', success: r.int(2) === 1, owner: `o${r.int(99)}`, fencingToken: r.int(1e9), count: r.int(9), remainingMs: r.int(1e6) },
    { kind: 'error', code: 'INVALID_PARAMETER', message: 'x'.repeat(r.int(200)) },
  ];
  const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? [...x] : x)));
  for (let i = 0; i < 200; i++) {
    for (const c of commands()) assert.deepEqual(plain(decodeCommand(encodeCommand(c))), plain(c), `op ${KvOp[c.op]}`);
    for (const res of results()) assert.deepEqual(plain(decodeResult(encodeResult(res))), plain(res), `result ${res.kind}`);
  }
});
