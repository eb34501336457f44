// The KV state machine: RheaKV's operations over an ordered engine. Every committed batch is
// applied in ONE engine transaction, together with the applied index, so the engine never
// holds half a batch and knows where to resume after a crash (the Raft log is the WAL).
//
// Engine layout (first byte = namespace):
//   0x00 + key   user data
//   0x01 + key   sequences (u64 next value)
//   0x02 + key   locks (JSON: owner, count, deadline, fencing token)
//   0x03 ...     meta: applied index, lock fencing counter, region meta
// Locks expire by the leader-stamped time in the command, never by a replica's clock.
//
// The state machine serves one region: every command's keys must lie in the region's range when
// it is applied (a split may have committed after the leader checked), else it is refused with
// INVALID_REGION_EPOCH and changes nothing. A RangeSplit moves the upper part of the range, with
// its sequences and locks and the fencing counter, into a new region: the store creates the new
// region durably (onSplit) before this region forgets the moved keys.

import type { ConfState } from '../raft/core/types.js';
import type { CommittedEntry, SnapshotImage, StateMachine } from '../raft/runtime/state-machine.js';
import { ByteReader } from '../transport/binary.js';
import { type Bytes, CheckedWriter, type KvCommand, KvOp, type KvResult, type RangeSplitCommand, READ_OPS, decodeCommand, encodeCommand, encodeResult } from './commands.js';
import { type EngineTx, type KvEngine, type KvPair, compareBytes as compareBytesImpl } from './engine/engine.js';
import { type RegionMeta, SPLIT_INIT_INDEX, decodeRegionMeta, encodeRegionMeta, keyInRegion, rangeInRegion } from './region.js';

const DATA = 0x00;
const SEQ = 0x01;
const LOCK = 0x02;
const META = 0x03;
const APPLIED_KEY = Uint8Array.from([META, 0x01]);
const FENCING_KEY = Uint8Array.from([META, 0x02]);
const REGION_KEY = Uint8Array.from([META, 0x03]);
/** JSON list of the ids of regions split off this one (a replica that gets them by snapshot). */
const CHILDREN_KEY = Uint8Array.from([META, 0x04]);
/** Namespaces whose keys are user keys (they move with a split). */
const KEYED = [DATA, SEQ, LOCK] as const;

/** The whole key space as one region (a state machine used without a store). */
export const WHOLE_SPACE: RegionMeta = { id: '1', startKey: new Uint8Array(0), endKey: new Uint8Array(0), epoch: { confVer: 1, version: 1 }, voters: [], learners: [] };

export interface KvStateMachineOptions {
  /** The region served, when the engine holds none yet (a new region). Default WHOLE_SPACE. */
  region?: RegionMeta;
  /**
   * Called on every replica when a split applies, before this region drops the moved keys:
   * must durably create the new region from `image` (a snapshot image of it at SPLIT_INIT_INDEX)
   * and be idempotent (a replay after a crash calls it again). Without it, splits are refused.
   */
  onSplit?: (child: RegionMeta, image: Uint8Array, parentId: string) => Promise<void>;
  /**
   * Called after a snapshot is loaded with the ids of every region split off this one: a
   * replica that was behind learns of splits it never applied (the store then creates those
   * regions empty; their leaders send them snapshots).
   */
  onSplitsLearned?: (childIds: readonly string[]) => void;
}

export interface KvLimits {
  /** Largest key, in bytes. Default 4 KiB. */
  readonly maxKeyBytes: number;
  /** Largest value, in bytes. Default 1 MiB. */
  readonly maxValueBytes: number;
}

export const DEFAULT_KV_LIMITS: KvLimits = { maxKeyBytes: 4096, maxValueBytes: 1024 * 1024 };

/** A callback run on every replica through the log (RheaKV's nodeExecute). Must be deterministic. */
export type NodeCallback = (payload: Uint8Array) => Uint8Array | void;

export class KvParameterError extends Error {
  readonly code = 'INVALID_PARAMETER';
}

const ns = (prefix: number, key: Bytes): Uint8Array => {
  const out = new Uint8Array(key.length + 1);
  out[0] = prefix;
  out.set(key, 1);
  return out;
};
const u64 = (n: number): Uint8Array => {
  const w = new CheckedWriter(8);
  w.u64(n, 'u64');
  return w.take();
};
const readU64 = (b: Uint8Array | undefined): number => (b ? new ByteReader(b).u64('u64') : 0);

interface LockState {
  owner: string;
  count: number;
  deadlineMs: number;
  fencingToken: number;
}

export class KvStateMachine implements StateMachine<Uint8Array> {
  private readonly callbacks = new Map<string, NodeCallback>();
  private applied: number;
  private regionMeta: RegionMeta;
  private readonly onSplit: KvStateMachineOptions['onSplit'];
  private readonly onSplitsLearned: KvStateMachineOptions['onSplitsLearned'];

  constructor(
    readonly engine: KvEngine,
    readonly limits: KvLimits = DEFAULT_KV_LIMITS,
    /** The leader's clock, for stamping lock commands. */
    private readonly now: () => number = Date.now,
    o: KvStateMachineOptions = {},
  ) {
    this.applied = readU64(engine.get(APPLIED_KEY));
    const stored = engine.get(REGION_KEY);
    this.regionMeta = stored ? decodeRegionMeta(stored) : (o.region ?? WHOLE_SPACE);
    if (!stored && o.region) engine.transaction((tx) => tx.put(REGION_KEY, encodeRegionMeta(this.regionMeta)));
    this.onSplit = o.onSplit;
    this.onSplitsLearned = o.onSplitsLearned;
  }

  /** The region as of the last applied entry. */
  get region(): RegionMeta {
    return this.regionMeta;
  }

  /** Every key (and range) of a command lies in the region. */
  inRegion(c: KvCommand): boolean {
    const r = this.regionMeta;
    const k = (key: Bytes): boolean => keyInRegion(r, key);
    switch (c.op) {
      case KvOp.PutList:
        return c.entries.every(([key]) => k(key));
      case KvOp.ComparePutAll:
        return c.entries.every(([key]) => k(key));
      case KvOp.DeleteList:
      case KvOp.MultiGet:
        return c.keys.every(k);
      case KvOp.DeleteRange:
        return rangeInRegion(r, c.start, c.end);
      case KvOp.Scan:
      case KvOp.ReverseScan:
        return rangeInRegion(r, c.start, c.end);
      case KvOp.NodeExecute:
        return true;
      case KvOp.RangeSplit:
        return c.splitKey === null || (keyInRegion(r, c.splitKey) && (r.startKey.length === 0 || compare(c.splitKey, r.startKey) > 0));
      default:
        return k(c.key);
    }
  }

  /** Leader-side validation (INVALID_PARAMETER), also used by the store before proposing. */
  validateCommand(c: KvCommand): void {
    this.validate(c);
  }

  /**
   * Membership changed: the region's peers follow, and confVer becomes the log index of the
   * change (it rises with every change and is the same on every replica).
   */
  onConfigurationCommitted(conf: ConfState, index: number): void {
    const r = this.regionMeta;
    if (index <= r.epoch.confVer) return;
    this.regionMeta = { ...r, voters: [...conf.voters, ...conf.votersOutgoing.filter((v) => !conf.voters.includes(v))], learners: [...conf.learners], epoch: { confVer: index, version: r.epoch.version } };
    const meta = encodeRegionMeta(this.regionMeta);
    this.engine.transaction((tx) => tx.put(REGION_KEY, meta));
  }

  /** Registers a nodeExecute callback (the same name must exist on every replica). */
  registerCallback(name: string, fn: NodeCallback): void {
    this.callbacks.set(name, fn);
  }

  lastAppliedIndex(): number {
    return this.applied;
  }

  /** Leader: validates parameters before anything is logged, and stamps lock commands. */
  startTransaction(data: Uint8Array): Uint8Array | void {
    let c: KvCommand;
    try {
      c = decodeCommand(data);
    } catch (e) {
      throw new KvParameterError(`malformed command: ${(e as Error).message}`);
    }
    if (READ_OPS.has(c.op)) throw new KvParameterError(`op ${KvOp[c.op]} is a read: send it as a query`);
    this.validate(c);
    if (c.op === KvOp.KeyLock || c.op === KvOp.KeyLockRelease) {
      return encodeCommand({ ...c, acquirer: { ...c.acquirer, stampMs: this.now() } });
    }
    return undefined;
  }

  private validate(c: KvCommand): void {
    const key = (k: Bytes | null | undefined, what = 'key'): void => {
      if (!k || k.length === 0) throw new KvParameterError(`${what} must be a non-empty byte string`);
      if (k.length > this.limits.maxKeyBytes) throw new KvParameterError(`${what} of ${k.length} bytes exceeds ${this.limits.maxKeyBytes}`);
    };
    const value = (v: Bytes | null | undefined): void => {
      if (!v) throw new KvParameterError('value must not be null');
      if (v.length > this.limits.maxValueBytes) throw new KvParameterError(`value of ${v.length} bytes exceeds ${this.limits.maxValueBytes}`);
    };
    switch (c.op) {
      case KvOp.Put:
      case KvOp.PutIfAbsent:
      case KvOp.GetPut:
      case KvOp.Merge:
      case KvOp.ComparePut:
        key(c.key);
        value(c.value);
        break;
      case KvOp.PutList:
        if (c.entries.length === 0) throw new KvParameterError('putList needs at least one entry');
        for (const [k, v] of c.entries) {
          key(k);
          value(v);
        }
        break;
      case KvOp.ComparePutAll:
        if (c.entries.length === 0) throw new KvParameterError('compareAndPutAll needs at least one entry');
        for (const [k, , v] of c.entries) {
          key(k);
          value(v);
        }
        break;
      case KvOp.Delete:
      case KvOp.ResetSequence:
        key(c.key);
        break;
      case KvOp.DeleteList:
        if (c.keys.length === 0) throw new KvParameterError('deleteList needs at least one key');
        for (const k of c.keys) key(k);
        break;
      case KvOp.DeleteRange:
        key(c.start, 'start key');
        key(c.end, 'end key');
        break;
      case KvOp.GetSequence:
        key(c.key, 'sequence key');
        if (!Number.isSafeInteger(c.step) || c.step < 0) throw new KvParameterError(`step must be a non-negative integer (got ${c.step})`);
        break;
      case KvOp.KeyLock:
      case KvOp.KeyLockRelease:
        key(c.key, 'lock key');
        if (!c.acquirer.id) throw new KvParameterError('lock acquirer id must not be empty');
        if (c.op === KvOp.KeyLock && !(c.acquirer.leaseMs > 0)) throw new KvParameterError('lock lease must be positive');
        break;
      case KvOp.NodeExecute:
        if (!this.callbacks.has(c.name)) throw new KvParameterError(`no nodeExecute callback named '${c.name}' is registered`);
        break;
      default:
        break;
    }
  }

  apply(entries: readonly CommittedEntry[]): Uint8Array[] | Promise<Uint8Array[]> {
    const split = entries.findIndex((e) => e.data[0] === KvOp.RangeSplit);
    if (split < 0) return this.applyBatch(entries);
    // A split needs the new region created durably (async) between the entries before it and
    // the entries after it.
    return (async () => {
      const out = this.applyBatch(entries.slice(0, split));
      const e = entries[split]!;
      out.push(encodeResult(await this.applySplit(e)));
      const rest = await this.apply(entries.slice(split + 1));
      return out.concat(rest);
    })();
  }

  /** One engine transaction for a batch without splits, with the applied index. */
  private applyBatch(entries: readonly CommittedEntry[]): Uint8Array[] {
    if (entries.length === 0) return [];
    return this.engine.transaction((tx) => {
      const out = entries.map((e) => encodeResult(this.applyOne(tx, e.data)));
      const last = entries[entries.length - 1]!;
      tx.put(APPLIED_KEY, u64(last.index));
      this.applied = last.index;
      return out;
    });
  }

  private async applySplit(e: CommittedEntry): Promise<KvResult> {
    const refuse = (code: 'INVALID_REGION_EPOCH' | 'INVALID_PARAMETER', message: string): KvResult => {
      this.engine.transaction((tx) => tx.put(APPLIED_KEY, u64(e.index)));
      this.applied = e.index;
      return { kind: 'error', code, message };
    };
    let c: RangeSplitCommand;
    try {
      c = decodeCommand(e.data) as RangeSplitCommand;
    } catch (err) {
      return refuse('INVALID_PARAMETER', `malformed split: ${(err as Error).message}`);
    }
    const r = this.regionMeta;
    if (c.expectVersion !== r.epoch.version) return refuse('INVALID_REGION_EPOCH', `split decided on version ${c.expectVersion}, region ${r.id} is at ${r.epoch.version}`);
    const splitKey = c.splitKey;
    if (!splitKey || !c.newRegionId || !this.inRegion(c) || (r.startKey.length > 0 && compare(splitKey, r.startKey) <= 0)) {
      return refuse('INVALID_PARAMETER', 'split key must lie strictly inside the region');
    }
    if (!this.onSplit) return refuse('INVALID_PARAMETER', 'this state machine cannot split (no store)');
    const version = r.epoch.version + 1;
    const child: RegionMeta = { id: c.newRegionId, startKey: splitKey, endKey: r.endKey, epoch: { confVer: 1, version }, voters: c.voters, learners: c.learners };
    const left: RegionMeta = { ...r, endKey: splitKey, epoch: { confVer: r.epoch.confVer, version } };
    // The new region's image: the moved keys, the fencing counter (tokens keep rising), its meta.
    const moved: KvPair[] = [];
    for (const p of KEYED) moved.push(...this.engine.scan(this.bounds(p, splitKey, r.endKey)));
    moved.push({ key: FENCING_KEY, value: u64(readU64(this.engine.get(FENCING_KEY))) });
    moved.push({ key: REGION_KEY, value: encodeRegionMeta(child) });
    moved.push({ key: APPLIED_KEY, value: u64(SPLIT_INIT_INDEX) });
    moved.sort((a, b) => compare(a.key, b.key));
    await this.onSplit(child, KvStateMachine.encodeImage(moved), r.id);
    this.engine.transaction((tx) => {
      for (const p of KEYED) {
        const b = this.bounds(p, splitKey, r.endKey);
        tx.deleteRange(b.start, b.end);
      }
      tx.put(REGION_KEY, encodeRegionMeta(left));
      tx.put(CHILDREN_KEY, new TextEncoder().encode(JSON.stringify([...this.children(tx.get(CHILDREN_KEY)), child.id])));
      tx.put(APPLIED_KEY, u64(e.index));
    });
    this.regionMeta = left;
    this.applied = e.index;
    return { kind: 'split', left: left.id, right: child.id, splitKey };
  }

  /** Engine bounds of namespace `p` for user keys in [start, end) (empty end = unbounded). */
  private bounds(p: number, start: Uint8Array, end: Uint8Array): { start: Uint8Array; end: Uint8Array } {
    return { start: ns(p, start), end: end.length > 0 ? ns(p, end) : Uint8Array.of(p + 1) };
  }

  /**
   * The approximate middle user key of the region, or undefined with fewer than `minKeys` keys.
   * (Exact here: the engines count keys cheaply enough at these sizes.)
   */
  middleKey(minKeys: number): Uint8Array | undefined {
    const n = this.keyCount();
    if (n < Math.max(2, minKeys)) return undefined;
    const rows = this.engine.scan({ start: Uint8Array.of(DATA), end: Uint8Array.of(DATA + 1), limit: Math.floor(n / 2) + 1 });
    return rows[rows.length - 1]!.key.slice(1);
  }

  private applyOne(tx: EngineTx, data: Uint8Array): KvResult {
    let c: KvCommand;
    try {
      c = decodeCommand(data);
    } catch (e) {
      // Not a KV command (e.g. written by another client type): consumed without effect.
      return { kind: 'error', code: 'INVALID_PARAMETER', message: (e as Error).message };
    }
    if (!this.inRegion(c)) {
      return { kind: 'error', code: 'INVALID_REGION_EPOCH', message: `a key lies outside region ${this.regionMeta.id} (version ${this.regionMeta.epoch.version}): refresh the routes` };
    }
    const get = (k: Bytes): Bytes | null => tx.get(ns(DATA, k)) ?? null;
    switch (c.op) {
      case KvOp.Put:
        tx.put(ns(DATA, c.key), c.value);
        return { kind: 'ok' };
      case KvOp.PutList:
        for (const [k, v] of c.entries) tx.put(ns(DATA, k), v);
        return { kind: 'ok' };
      case KvOp.PutIfAbsent: {
        const prev = get(c.key);
        if (prev === null) tx.put(ns(DATA, c.key), c.value);
        return { kind: 'value', value: prev };
      }
      case KvOp.GetPut: {
        const prev = get(c.key);
        tx.put(ns(DATA, c.key), c.value);
        return { kind: 'value', value: prev };
      }
      case KvOp.ComparePut: {
        const cur = get(c.key);
        if (!sameBytes(cur, c.expect)) return { kind: 'bool', value: false };
        tx.put(ns(DATA, c.key), c.value);
        return { kind: 'bool', value: true };
      }
      case KvOp.ComparePutAll: {
        for (const [k, e] of c.entries) if (!sameBytes(get(k), e)) return { kind: 'bool', value: false };
        for (const [k, , v] of c.entries) tx.put(ns(DATA, k), v);
        return { kind: 'bool', value: true };
      }
      case KvOp.Merge: {
        // RheaKV's merge: string append with a ',' separator.
        const prev = get(c.key);
        tx.put(ns(DATA, c.key), prev === null ? c.value : concat(prev, COMMA, c.value));
        return { kind: 'ok' };
      }
      case KvOp.Delete:
        tx.delete(ns(DATA, c.key));
        return { kind: 'ok' };
      case KvOp.DeleteList:
        for (const k of c.keys) tx.delete(ns(DATA, k));
        return { kind: 'ok' };
      case KvOp.DeleteRange:
        tx.deleteRange(ns(DATA, c.start), ns(DATA, c.end));
        return { kind: 'ok' };
      case KvOp.GetSequence: {
        const k = ns(SEQ, c.key);
        const start = readU64(tx.get(k));
        if (c.step > 0) tx.put(k, u64(start + c.step));
        return { kind: 'sequence', start, end: start + c.step };
      }
      case KvOp.ResetSequence:
        tx.delete(ns(SEQ, c.key));
        return { kind: 'ok' };
      case KvOp.KeyLock:
        return this.lock(tx, c.key, c.acquirer, c.keepLease);
      case KvOp.KeyLockRelease:
        return this.unlock(tx, c.key, c.acquirer.id, c.acquirer.stampMs);
      case KvOp.NodeExecute: {
        const fn = this.callbacks.get(c.name);
        if (!fn) return { kind: 'error', code: 'UNKNOWN_CALLBACK', message: `no callback '${c.name}' on this replica` };
        try {
          return { kind: 'value', value: fn(c.payload) ?? null };
        } catch (e) {
          return { kind: 'error', code: 'CALLBACK_FAILED', message: (e as Error).message };
        }
      }
      default:
        return { kind: 'error', code: 'INVALID_PARAMETER', message: `op ${KvOp[c.op]} is a read, not a write` };
    }
  }

  /**
   * Lease-based, re-entrant lock with a fencing token that only rises: a new owner (or the
   * same owner after its lease expired) gets a token above every token handed out before.
   */
  private lock(tx: EngineTx, key: Bytes, a: { id: string; leaseMs: number; stampMs: number }, keepLease: boolean): KvResult {
    const k = ns(LOCK, key);
    const raw = tx.get(k);
    const cur = raw ? (JSON.parse(new TextDecoder().decode(raw)) as LockState) : undefined;
    const live = cur && cur.deadlineMs > a.stampMs;
    if (live && cur.owner !== a.id) {
      return { kind: 'lock', success: false, owner: cur.owner, fencingToken: cur.fencingToken, count: cur.count, remainingMs: cur.deadlineMs - a.stampMs };
    }
    let next: LockState;
    if (live && cur.owner === a.id) {
      // Re-entry (or a lease renewal with keepLease): same token.
      next = { ...cur, count: keepLease ? cur.count : cur.count + 1, deadlineMs: a.stampMs + a.leaseMs };
    } else {
      const token = readU64(tx.get(FENCING_KEY)) + 1;
      tx.put(FENCING_KEY, u64(token));
      next = { owner: a.id, count: 1, deadlineMs: a.stampMs + a.leaseMs, fencingToken: token };
    }
    tx.put(k, new TextEncoder().encode(JSON.stringify(next)));
    return { kind: 'lock', success: true, owner: next.owner, fencingToken: next.fencingToken, count: next.count, remainingMs: a.leaseMs };
  }

  private unlock(tx: EngineTx, key: Bytes, owner: string, stampMs: number): KvResult {
    const k = ns(LOCK, key);
    const raw = tx.get(k);
    const cur = raw ? (JSON.parse(new TextDecoder().decode(raw)) as LockState) : undefined;
    if (!cur || cur.owner !== owner || cur.deadlineMs <= stampMs) {
      return { kind: 'lock', success: false, owner: cur?.owner ?? '', fencingToken: cur?.fencingToken ?? 0, count: 0, remainingMs: 0 };
    }
    if (cur.count > 1) {
      const next = { ...cur, count: cur.count - 1 };
      tx.put(k, new TextEncoder().encode(JSON.stringify(next)));
      return { kind: 'lock', success: true, owner, fencingToken: cur.fencingToken, count: next.count, remainingMs: cur.deadlineMs - stampMs };
    }
    tx.delete(k);
    return { kind: 'lock', success: true, owner, fencingToken: cur.fencingToken, count: 0, remainingMs: 0 };
  }

  /** Reads (after the read's consistency wait): get, multiGet, containsKey, scan, reverseScan. */
  query(request: Uint8Array): Uint8Array {
    let c: KvCommand;
    try {
      c = decodeCommand(request);
    } catch (e) {
      return encodeResult({ kind: 'error', code: 'INVALID_PARAMETER', message: (e as Error).message });
    }
    if (!this.inRegion(c)) {
      return encodeResult({ kind: 'error', code: 'INVALID_REGION_EPOCH', message: `a key lies outside region ${this.regionMeta.id} (version ${this.regionMeta.epoch.version}): refresh the routes` });
    }
    const e = this.engine;
    switch (c.op) {
      case KvOp.Get:
        return encodeResult({ kind: 'value', value: e.get(ns(DATA, c.key)) ?? null });
      case KvOp.MultiGet:
        return encodeResult({ kind: 'values', values: c.keys.map((k) => e.get(ns(DATA, k)) ?? null) });
      case KvOp.ContainsKey:
        return encodeResult({ kind: 'bool', value: e.get(ns(DATA, c.key)) !== undefined });
      case KvOp.Scan:
      case KvOp.ReverseScan: {
        const rows = e.scan({
          start: c.start ? ns(DATA, c.start) : Uint8Array.of(DATA),
          end: c.end ? ns(DATA, c.end) : Uint8Array.of(DATA + 1),
          reverse: c.op === KvOp.ReverseScan,
          ...(c.limit > 0 ? { limit: c.limit } : {}),
        });
        return encodeResult({ kind: 'pairs', pairs: rows.map((r) => [r.key.subarray(1), c.returnValue ? r.value : null] as const) });
      }
      default:
        return encodeResult({ kind: 'error', code: 'INVALID_PARAMETER', message: `op ${KvOp[c.op]} is a write: propose it` });
    }
  }

  /** Number of user keys (for split decisions and status). */
  keyCount(): number {
    return this.engine.count(Uint8Array.of(DATA), Uint8Array.of(DATA + 1));
  }

  saveSnapshot(): SnapshotImage {
    // A consistent image: the engine is only written by apply(), synchronously.
    return { index: this.applied, data: KvStateMachine.encodeImage(this.engine.exportAll()) };
  }

  /**
   * The image a region created from configuration begins with (at SPLIT_INIT_INDEX, like a
   * split's new region): no keys, just its meta. Every replica, including one added later and
   * caught up from the log, then starts from the same state with the right range and epoch.
   */
  static initialImage(meta: RegionMeta): Uint8Array {
    const pairs: KvPair[] = [
      { key: REGION_KEY, value: encodeRegionMeta(meta) },
      { key: APPLIED_KEY, value: u64(SPLIT_INIT_INDEX) },
    ];
    pairs.sort((a, b) => compare(a.key, b.key));
    return KvStateMachine.encodeImage(pairs);
  }

  /** The snapshot image format: [u32 count] then (key, value) byte strings. */
  static encodeImage(pairs: readonly KvPair[]): Uint8Array {
    const w = new CheckedWriter(1024);
    w.u32(pairs.length);
    for (const p of pairs) {
      w.bytes32(p.key);
      w.bytes32(p.value);
    }
    return w.take(0);
  }

  loadSnapshot(image: SnapshotImage): void {
    const r = new ByteReader(image.data);
    const n = r.u32();
    const pairs: Array<{ key: Uint8Array; value: Uint8Array }> = [];
    for (let i = 0; i < n; i++) pairs.push({ key: r.bytes32(), value: r.bytes32() });
    this.engine.importAll(pairs);
    this.engine.transaction((tx) => tx.put(APPLIED_KEY, u64(image.index)));
    this.applied = image.index;
    const stored = this.engine.get(REGION_KEY);
    if (stored) this.regionMeta = decodeRegionMeta(stored);
    const children = this.children(this.engine.get(CHILDREN_KEY));
    if (children.length > 0) this.onSplitsLearned?.(children);
  }

  private children(raw: Uint8Array | undefined): string[] {
    return raw ? (JSON.parse(new TextDecoder().decode(raw)) as string[]) : [];
  }
}

const COMMA = Uint8Array.of(0x2c);
const compare = (a: Uint8Array, b: Uint8Array): number => compareBytesImpl(a, b);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
