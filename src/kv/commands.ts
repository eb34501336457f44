// KV commands: RheaKV's operations, with its op codes, as they travel through the Raft log
// (writes) or to a replica's query hook (reads), and their results. A compact binary codec:
// [u8 op][fields], byte strings u32-length-prefixed.

import { ByteReader, ByteWriter } from '../transport/binary.js';

/**
 * ByteWriter whose fixed-size writes reserve their own room. (The transport's writer leaves
 * that to the caller on its hot path; here clarity wins.)
 */
export class CheckedWriter extends ByteWriter {
  override u8(v: number): void {
    this.ensure(1);
    super.u8(v);
  }
  override u16(v: number): void {
    this.ensure(2);
    super.u16(v);
  }
  override u32(v: number): void {
    this.ensure(4);
    super.u32(v);
  }
  override u64(v: number, what: string): void {
    this.ensure(8);
    super.u64(v, what);
  }
}

export enum KvOp {
  Put = 0x01,
  PutIfAbsent = 0x02,
  Delete = 0x03,
  PutList = 0x04,
  DeleteRange = 0x05,
  GetSequence = 0x06,
  NodeExecute = 0x07,
  KeyLock = 0x08,
  KeyLockRelease = 0x09,
  Get = 0x0a,
  MultiGet = 0x0b,
  Scan = 0x0c,
  GetPut = 0x0d,
  Merge = 0x0e,
  ResetSequence = 0x0f,
  RangeSplit = 0x10,
  ComparePut = 0x11,
  DeleteList = 0x12,
  ContainsKey = 0x13,
  ReverseScan = 0x14,
  ComparePutAll = 0x15,
}

export type Bytes = Uint8Array;

export interface LockAcquirer {
  /** Who holds the lock (e.g. a client process id); the same id re-enters. */
  readonly id: string;
  readonly leaseMs: number;
  /** Stamped by the leader before proposing, so every replica computes expiry alike. */
  readonly stampMs: number;
}

export type KvCommand =
  | { readonly op: KvOp.Put; readonly key: Bytes; readonly value: Bytes }
  | { readonly op: KvOp.PutIfAbsent; readonly key: Bytes; readonly value: Bytes }
  | { readonly op: KvOp.GetPut; readonly key: Bytes; readonly value: Bytes }
  | { readonly op: KvOp.Merge; readonly key: Bytes; readonly value: Bytes }
  | { readonly op: KvOp.ComparePut; readonly key: Bytes; readonly expect: Bytes | null; readonly value: Bytes }
  | { readonly op: KvOp.PutList; readonly entries: ReadonlyArray<readonly [Bytes, Bytes]> }
  | { readonly op: KvOp.ComparePutAll; readonly entries: ReadonlyArray<readonly [Bytes, Bytes | null, Bytes]> }
  | { readonly op: KvOp.Delete; readonly key: Bytes }
  | { readonly op: KvOp.DeleteList; readonly keys: readonly Bytes[] }
  | { readonly op: KvOp.DeleteRange; readonly start: Bytes; readonly end: Bytes }
  | { readonly op: KvOp.GetSequence; readonly key: Bytes; readonly step: number }
  | { readonly op: KvOp.ResetSequence; readonly key: Bytes }
  | { readonly op: KvOp.KeyLock; readonly key: Bytes; readonly acquirer: LockAcquirer; readonly keepLease: boolean }
  | { readonly op: KvOp.KeyLockRelease; readonly key: Bytes; readonly acquirer: LockAcquirer }
  | { readonly op: KvOp.NodeExecute; readonly name: string; readonly payload: Bytes }
  | RangeSplitCommand
  | { readonly op: KvOp.Get; readonly key: Bytes }
  | { readonly op: KvOp.MultiGet; readonly keys: readonly Bytes[] }
  | { readonly op: KvOp.ContainsKey; readonly key: Bytes }
  | { readonly op: KvOp.Scan | KvOp.ReverseScan; readonly start: Bytes | null; readonly end: Bytes | null; readonly limit: number; readonly returnValue: boolean };

/**
 * Splits a region at `splitKey` (null: the leader picks the approximate middle key). A client
 * sends only `splitKey`; the leader stamps the rest before proposing, so every replica creates
 * the same new region: its id, the version the split applies to, and the peers of the new group.
 */
export interface RangeSplitCommand {
  readonly op: KvOp.RangeSplit;
  readonly splitKey: Bytes | null;
  /** Stamped by the leader ('' from a client). */
  readonly newRegionId: string;
  /** The region version the split was decided on; a replica with another version refuses it. */
  readonly expectVersion: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
}

/** Operations served by reads (query hook) rather than through the log. */
export const READ_OPS: ReadonlySet<KvOp> = new Set([KvOp.Get, KvOp.MultiGet, KvOp.ContainsKey, KvOp.Scan, KvOp.ReverseScan]);

export type KvResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'value'; readonly value: Bytes | null }
  | { readonly kind: 'values'; readonly values: ReadonlyArray<Bytes | null> }
  | { readonly kind: 'pairs'; readonly pairs: ReadonlyArray<readonly [Bytes, Bytes | null]> }
  | { readonly kind: 'sequence'; readonly start: number; readonly end: number }
  | { readonly kind: 'lock'; readonly success: boolean; readonly owner: string; readonly fencingToken: number; readonly count: number; readonly remainingMs: number }
  | { readonly kind: 'split'; readonly left: string; readonly right: string; readonly splitKey: Bytes }
  | { readonly kind: 'error'; readonly code: KvResultErrorCode; readonly message: string };

/** Errors a replica reports from applying (or refusing) a committed command. */
export type KvResultErrorCode = 'INVALID_PARAMETER' | 'UNKNOWN_CALLBACK' | 'CALLBACK_FAILED' | 'INVALID_REGION_EPOCH' | 'TOO_SMALL_TO_SPLIT';

// ---------------------------------------------------------------- codec

function bytesOrNull(w: CheckedWriter, b: Bytes | null): void {
  if (b === null) w.u8(0);
  else {
    w.u8(1);
    w.bytes32(b);
  }
}

function readBytesOrNull(r: ByteReader): Bytes | null {
  return r.u8() === 0 ? null : r.bytes32();
}

export function encodeCommand(c: KvCommand): Uint8Array {
  const w = new CheckedWriter(64);
  w.u8(c.op);
  switch (c.op) {
    case KvOp.Put:
    case KvOp.PutIfAbsent:
    case KvOp.GetPut:
    case KvOp.Merge:
      w.bytes32(c.key);
      w.bytes32(c.value);
      break;
    case KvOp.ComparePut:
      w.bytes32(c.key);
      bytesOrNull(w, c.expect);
      w.bytes32(c.value);
      break;
    case KvOp.PutList:
      w.u32(c.entries.length);
      for (const [k, v] of c.entries) {
        w.bytes32(k);
        w.bytes32(v);
      }
      break;
    case KvOp.ComparePutAll:
      w.u32(c.entries.length);
      for (const [k, e, v] of c.entries) {
        w.bytes32(k);
        bytesOrNull(w, e);
        w.bytes32(v);
      }
      break;
    case KvOp.Delete:
    case KvOp.ResetSequence:
    case KvOp.Get:
    case KvOp.ContainsKey:
      w.bytes32(c.key);
      break;
    case KvOp.DeleteList:
    case KvOp.MultiGet:
      w.u32(c.keys.length);
      for (const k of c.keys) w.bytes32(k);
      break;
    case KvOp.DeleteRange:
      w.bytes32(c.start);
      w.bytes32(c.end);
      break;
    case KvOp.GetSequence:
      w.bytes32(c.key);
      w.u64(c.step, 'step');
      break;
    case KvOp.KeyLock:
    case KvOp.KeyLockRelease:
      w.bytes32(c.key);
      w.str16(c.acquirer.id, 'acquirer id');
      w.u64(c.acquirer.leaseMs, 'leaseMs');
      w.u64(c.acquirer.stampMs, 'stampMs');
      w.u8(c.op === KvOp.KeyLock && c.keepLease ? 1 : 0);
      break;
    case KvOp.NodeExecute:
      w.str16(c.name, 'callback name');
      w.bytes32(c.payload);
      break;
    case KvOp.RangeSplit:
      bytesOrNull(w, c.splitKey);
      w.str16(c.newRegionId, 'new region id');
      w.u64(c.expectVersion, 'expectVersion');
      w.u32(c.voters.length);
      for (const v of c.voters) w.str16(v, 'voter');
      w.u32(c.learners.length);
      for (const v of c.learners) w.str16(v, 'learner');
      break;
    case KvOp.Scan:
    case KvOp.ReverseScan:
      bytesOrNull(w, c.start);
      bytesOrNull(w, c.end);
      w.u32(c.limit);
      w.u8(c.returnValue ? 1 : 0);
      break;
    default:
      throw new Error(`cannot encode op ${(c as { op: number }).op}`);
  }
  return w.take();
}

export function decodeCommand(b: Uint8Array): KvCommand {
  const r = new ByteReader(b);
  const op = r.u8() as KvOp;
  switch (op) {
    case KvOp.Put:
    case KvOp.PutIfAbsent:
    case KvOp.GetPut:
    case KvOp.Merge:
      return { op, key: r.bytes32(), value: r.bytes32() };
    case KvOp.ComparePut:
      return { op, key: r.bytes32(), expect: readBytesOrNull(r), value: r.bytes32() };
    case KvOp.PutList: {
      const n = r.u32();
      const entries: Array<[Bytes, Bytes]> = [];
      for (let i = 0; i < n; i++) entries.push([r.bytes32(), r.bytes32()]);
      return { op, entries };
    }
    case KvOp.ComparePutAll: {
      const n = r.u32();
      const entries: Array<[Bytes, Bytes | null, Bytes]> = [];
      for (let i = 0; i < n; i++) entries.push([r.bytes32(), readBytesOrNull(r), r.bytes32()]);
      return { op, entries };
    }
    case KvOp.Delete:
    case KvOp.ResetSequence:
    case KvOp.Get:
    case KvOp.ContainsKey:
      return { op, key: r.bytes32() };
    case KvOp.DeleteList:
    case KvOp.MultiGet: {
      const n = r.u32();
      const keys: Bytes[] = [];
      for (let i = 0; i < n; i++) keys.push(r.bytes32());
      return { op, keys };
    }
    case KvOp.DeleteRange:
      return { op, start: r.bytes32(), end: r.bytes32() };
    case KvOp.GetSequence:
      return { op, key: r.bytes32(), step: r.u64('step') };
    case KvOp.KeyLock:
    case KvOp.KeyLockRelease: {
      const key = r.bytes32();
      const acquirer = { id: r.str16(), leaseMs: r.u64('leaseMs'), stampMs: r.u64('stampMs') };
      const keep = r.u8() === 1;
      return op === KvOp.KeyLock ? { op, key, acquirer, keepLease: keep } : { op, key, acquirer };
    }
    case KvOp.NodeExecute:
      return { op, name: r.str16(), payload: r.bytes32() };
    case KvOp.RangeSplit: {
      const splitKey = readBytesOrNull(r);
      const newRegionId = r.str16();
      const expectVersion = r.u64('expectVersion');
      const voters: string[] = [];
      for (let i = r.u32(); i > 0; i--) voters.push(r.str16());
      const learners: string[] = [];
      for (let i = r.u32(); i > 0; i--) learners.push(r.str16());
      return { op, splitKey, newRegionId, expectVersion, voters, learners };
    }
    case KvOp.Scan:
    case KvOp.ReverseScan:
      return { op, start: readBytesOrNull(r), end: readBytesOrNull(r), limit: r.u32(), returnValue: r.u8() === 1 };
    default:
      throw new Error(`unknown KV op code ${op}`);
  }
}

export function encodeResult(res: KvResult): Uint8Array {
  const w = new CheckedWriter(32);
  switch (res.kind) {
    case 'ok':
      w.u8(0);
      break;
    case 'bool':
      w.u8(1);
      w.u8(res.value ? 1 : 0);
      break;
    case 'value':
      w.u8(2);
      bytesOrNull(w, res.value);
      break;
    case 'values':
      w.u8(3);
      w.u32(res.values.length);
      for (const v of res.values) bytesOrNull(w, v);
      break;
    case 'pairs':
      w.u8(4);
      w.u32(res.pairs.length);
      for (const [k, v] of res.pairs) {
        w.bytes32(k);
        bytesOrNull(w, v);
      }
      break;
    case 'sequence':
      w.u8(5);
      w.u64(res.start, 'start');
      w.u64(res.end, 'end');
      break;
    case 'lock':
      w.u8(6);
      w.u8(res.success ? 1 : 0);
      w.str16(res.owner, 'owner');
      w.u64(res.fencingToken, 'fencingToken');
      w.u32(res.count);
      w.u64(Math.max(0, res.remainingMs), 'remainingMs');
      break;
    case 'split':
      w.u8(8);
      w.str16(res.left, 'left');
      w.str16(res.right, 'right');
      w.bytes32(res.splitKey);
      break;
    case 'error':
      w.u8(7);
      w.str16(res.code, 'code');
      w.str32(res.message);
      break;
  }
  return w.take();
}

export function decodeResult(b: Uint8Array): KvResult {
  const r = new ByteReader(b);
  switch (r.u8()) {
    case 0:
      return { kind: 'ok' };
    case 1:
      return { kind: 'bool', value: r.u8() === 1 };
    case 2:
      return { kind: 'value', value: readBytesOrNull(r) };
    case 3: {
      const n = r.u32();
      const values: Array<Bytes | null> = [];
      for (let i = 0; i < n; i++) values.push(readBytesOrNull(r));
      return { kind: 'values', values };
    }
    case 4: {
      const n = r.u32();
      const pairs: Array<[Bytes, Bytes | null]> = [];
      for (let i = 0; i < n; i++) pairs.push([r.bytes32(), readBytesOrNull(r)]);
      return { kind: 'pairs', pairs };
    }
    case 5:
      return { kind: 'sequence', start: r.u64('start'), end: r.u64('end') };
    case 6:
      return { kind: 'lock', success: r.u8() === 1, owner: r.str16(), fencingToken: r.u64('fencingToken'), count: r.u32(), remainingMs: r.u64('remainingMs') };
    case 7:
      return { kind: 'error', code: r.str16() as KvResultErrorCode, message: r.str32() };
    case 8:
      return { kind: 'split', left: r.str16(), right: r.str16(), splitKey: r.bytes32() };
    default:
      throw new Error('unknown KV result tag');
  }
}
