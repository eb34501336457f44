// The smart KV client (RheaKV's client; etcd's clientv3 in spirit): routes every operation to
// the regions holding its keys, splits multi-key and range operations across regions, finds and
// caches leaders, retries within a deadline, and batches concurrent puts and gets.
//
//   routes        route-table.ts (data), router.ts (fetching, waiting for coverage)
//   one request   region-rpc.ts (leader, redirects, backoff, call ids, outcomes)
//   re-splitting  executor.ts (parts in parallel; stale parts re-split over new routes)
//   batching      batcher.ts
//   locks         lock.ts

import { randomBytes } from 'node:crypto';
import { TcpTransport } from '../../transport/tcp-transport.js';
import type { Transport } from '../../transport/transport.js';
import { type KvCommand, KvOp, type KvResult } from '../commands.js';
import type { ReadConsistency } from '../protocol.js';
import { toWireKey } from '../protocol.js';
import { Batcher, type BatchLimits } from './batcher.js';
import { CallIds } from './call-ids.js';
import { KvClientError } from './errors.js';
import { type OpContext, type Plan, Executor } from './executor.js';
import { type Key, type Value, asBuffer, boundBytes, compareKeys, emptyRange, keyAfter, keyBytes, maxStart, minEnd, valueBytes } from './keys.js';
import { Lifecycle } from './lifecycle.js';
import { DistributedLock } from './lock.js';
import { RegionRpc } from './region-rpc.js';
import { type RegionRoute, contains } from './route-table.js';
import { Router, parseAddress } from './router.js';
import { type Range, splitAndChunk, splitByKey, splitRange } from './split.js';
import type {
  CompareAndPutEntry,
  DistributedLockOptions,
  ExecuteOptions,
  GetOptions,
  IteratorOptions,
  KvClientOptions,
  KvPair,
  LockOptions,
  LockResult,
  RegionDescriptor,
  ScanOptions,
  SequenceRange,
  SplitResult,
} from './types.js';

const CONSISTENCIES: ReadonlySet<string> = new Set(['linearizable', 'lease', 'stale']);
const quiet = { debug() {}, info() {}, warn() {} };

export function createClient(opts: KvClientOptions): KvClient {
  return new KvClient(opts);
}

export class KvClient {
  /** This client's identity in the stores' retry caches, and the default lock acquirer. */
  readonly clientId = `kv-${randomBytes(8).toString('hex')}`;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private readonly life = new Lifecycle();
  private readonly router: Router;
  private readonly callIds = new CallIds();
  private readonly rpc: RegionRpc;
  private readonly exec: Executor;
  private readonly batcher: Batcher | undefined;
  private readonly limits: BatchLimits;
  private readonly timeoutMs: number;
  private readonly readConsistency: ReadConsistency;
  private readonly watchdogs = new Set<DistributedLock>();
  private lockCounter = 0;

  constructor(o: KvClientOptions) {
    const endpoints = o?.endpoints ?? [];
    const pdEndpoints = o?.pdEndpoints ?? [];
    if (!Array.isArray(endpoints) || !Array.isArray(pdEndpoints) || endpoints.length + pdEndpoints.length === 0) {
      throw new KvClientError('INVALID_ARGUMENT', 'at least one endpoint ("host:port" of a store, or of a placement driver node in pdEndpoints) is needed');
    }
    for (const e of [...endpoints, ...pdEndpoints]) {
      if (typeof e !== 'string' || !parseAddress(e)) throw new KvClientError('INVALID_ARGUMENT', `bad endpoint '${String(e)}' (want host:port)`);
    }
    this.timeoutMs = positive(o.timeoutMs, 10_000, 'timeoutMs');
    const attemptTimeoutMs = positive(o.attemptTimeoutMs, 3_000, 'attemptTimeoutMs');
    const maxRetries = positive(o.maxRetries, 64, 'maxRetries');
    this.readConsistency = o.readConsistency ?? 'linearizable';
    if (!CONSISTENCIES.has(this.readConsistency)) throw new KvClientError('INVALID_ARGUMENT', `bad readConsistency '${String(o.readConsistency)}'`);
    const b = o.batching === false ? {} : (o.batching ?? {});
    this.limits = { maxCount: positive(b.maxCount, 256, 'batching.maxCount'), maxBytes: positive(b.maxBytes, 1024 * 1024, 'batching.maxBytes') };

    this.ownsTransport = !o.transport;
    this.transport =
      o.transport ?? new TcpTransport({ nodeId: `kvclient-${randomBytes(6).toString('hex')}`, cluster: o.cluster ?? 'raftkv', logger: quiet, requestTimeoutMs: attemptTimeoutMs });
    this.router = new Router(this.transport, endpoints, this.life, attemptTimeoutMs, pdEndpoints);
    this.rpc = new RegionRpc(this.transport, this.router, this.callIds, this.life, { clientId: this.clientId, attemptTimeoutMs, maxRetries });
    this.exec = new Executor(this.rpc, this.router, this.callIds, this.life, maxRetries);
    if (o.batching !== false) {
      this.batcher = new Batcher(this.exec, this.router, this.limits, {
        put: (key, value, deadline) => this.putOne(key, value, deadline),
        get: (key, consistency, follower, deadline) => this.getOne(key, consistency, follower, deadline),
      });
    }
  }

  // ------------------------------------------------------------------ writes

  async put(key: Key, value: Value): Promise<void> {
    const k = keyBytes(key);
    const v = valueBytes(value);
    this.life.check();
    const deadline = this.deadline();
    if (this.batcher) return this.batcher.put(k, v, deadline);
    return this.putOne(k, v, deadline);
  }

  /** Puts unless the key exists; resolves with the previous value (null if it was absent and is now set). */
  async putIfAbsent(key: Key, value: Value): Promise<Buffer | null> {
    const k = keyBytes(key);
    const v = valueBytes(value);
    return valueOf(await this.writeKey(k, { op: KvOp.PutIfAbsent, key: k, value: v }), 'value');
  }

  /** Puts; resolves with the previous value. */
  async getAndPut(key: Key, value: Value): Promise<Buffer | null> {
    const k = keyBytes(key);
    const v = valueBytes(value);
    return valueOf(await this.writeKey(k, { op: KvOp.GetPut, key: k, value: v }), 'value');
  }

  /** Puts if the current value is `expect` (null: absent). */
  async compareAndPut(key: Key, expect: Value | null, value: Value): Promise<boolean> {
    const k = keyBytes(key);
    const e = expect === null ? null : valueBytes(expect, 'expected value');
    const v = valueBytes(value);
    return boolOf(await this.writeKey(k, { op: KvOp.ComparePut, key: k, expect: e, value: v }));
  }

  /** Atomic compare-and-put of several keys; they must lie in one region (else CROSS_REGION). */
  async compareAndPutAll(entries: readonly CompareAndPutEntry[]): Promise<boolean> {
    if (!Array.isArray(entries) || entries.length === 0) throw new KvClientError('INVALID_PARAMETER', 'compareAndPutAll needs at least one entry');
    const es = entries.map((x) => [keyBytes(x?.key), x.expect === null ? null : valueBytes(x.expect, 'expected value'), valueBytes(x.value)] as const);
    const ctx = this.ctx(true);
    const { result } = await this.exec.runSingle(
      async (deadline) => {
        const units = await splitByKey(es, (e) => e[0], this.router, deadline);
        if (units.length > 1) {
          throw new KvClientError('CROSS_REGION', `compareAndPutAll keys span ${units.length} regions (${units.map((u) => u.region.id).join(', ')})`);
        }
        return units[0]!.region;
      },
      () => ({ op: KvOp.ComparePutAll, entries: es }),
      ctx,
    );
    return boolOf(result);
  }

  /** Puts many pairs: split per region and sent in parallel (atomic per region, not across). */
  async putAll(entries: ReadonlyArray<readonly [Key, Value]>): Promise<void> {
    if (!Array.isArray(entries)) throw new KvClientError('INVALID_PARAMETER', 'putAll takes an array of [key, value] pairs');
    const es = entries.map((e) => {
      if (!Array.isArray(e)) throw new KvClientError('INVALID_PARAMETER', 'putAll takes an array of [key, value] pairs');
      return [keyBytes(e[0]), valueBytes(e[1])] as const;
    });
    if (es.length === 0) return;
    type E = (typeof es)[number];
    const plan: Plan<E[]> = {
      split: (part, d) => splitAndChunk(part, (e) => e[0], this.router, d, this.limits.maxCount, this.limits.maxBytes, (e) => e[0].length + e[1].length + 8),
      build: (_, part) => ({ op: KvOp.PutList, entries: part }),
      done: (_, res) => expectOk(res),
    };
    await this.exec.run(es, plan, this.ctx(true));
  }

  /** Appends to the value with a ',' separator (RheaKV's merge). */
  async merge(key: Key, value: Value): Promise<void> {
    const k = keyBytes(key);
    const v = valueBytes(value);
    expectOk(await this.writeKey(k, { op: KvOp.Merge, key: k, value: v }));
  }

  async delete(key: Key): Promise<void> {
    const k = keyBytes(key);
    expectOk(await this.writeKey(k, { op: KvOp.Delete, key: k }));
  }

  /** Deletes many keys: split per region, sent in parallel. */
  async deleteAll(keys: readonly Key[]): Promise<void> {
    if (!Array.isArray(keys)) throw new KvClientError('INVALID_PARAMETER', 'deleteAll takes an array of keys');
    const ks = keys.map((k) => keyBytes(k));
    if (ks.length === 0) return;
    const plan: Plan<Buffer[]> = {
      split: (part, d) => splitAndChunk(part, (k) => k, this.router, d, this.limits.maxCount, this.limits.maxBytes, (k) => k.length + 4),
      build: (_, part) => ({ op: KvOp.DeleteList, keys: part }),
      done: (_, res) => expectOk(res),
    };
    await this.exec.run(ks, plan, this.ctx(true));
  }

  /** Deletes every key in [start, end); split over the regions it overlaps. */
  async deleteRange(start: Key, end: Key): Promise<void> {
    const s = keyBytes(start, 'start key');
    const e = keyBytes(end, 'end key');
    if (emptyRange(s, e)) return;
    const plan: Plan<Range> = {
      split: (r, d) => splitRange(r, this.router, d),
      build: (_, r) => ({ op: KvOp.DeleteRange, start: r.start, end: r.end }),
      done: (_, res) => expectOk(res),
    };
    await this.exec.run({ start: s, end: e }, plan, this.ctx(true));
  }

  // ------------------------------------------------------------------ reads

  async get(key: Key, opts: GetOptions = {}): Promise<Buffer | null> {
    const k = keyBytes(key);
    const consistency = this.consistency(opts.consistency);
    this.life.check();
    const deadline = this.deadline();
    if (this.batcher) return this.batcher.get(k, consistency, opts.follower === true, deadline);
    return this.getOne(k, consistency, opts.follower === true, deadline);
  }

  /** Values of many keys, in input order (null when absent). */
  async multiGet(keys: readonly Key[], opts: GetOptions = {}): Promise<Array<Buffer | null>> {
    if (!Array.isArray(keys)) throw new KvClientError('INVALID_PARAMETER', 'multiGet takes an array of keys');
    const items = keys.map((k, i) => ({ i, key: keyBytes(k) }));
    const out: Array<Buffer | null> = new Array<Buffer | null>(items.length).fill(null);
    if (items.length === 0) return out;
    type I = (typeof items)[number];
    const plan: Plan<I[]> = {
      split: (part, d) => splitAndChunk(part, (x) => x.key, this.router, d, this.limits.maxCount, this.limits.maxBytes, (x) => x.key.length + 4),
      build: (_, part) => ({ op: KvOp.MultiGet, keys: part.map((x) => x.key) }),
      done: (part, res) => {
        if (res.kind !== 'values' || res.values.length !== part.length) throw unexpected(res, `values[${part.length}]`);
        part.forEach((x, j) => {
          const v = res.values[j];
          out[x.i] = v ? asBuffer(v) : null;
        });
      },
    };
    await this.exec.run(items, plan, this.readCtx(opts));
    return out;
  }

  async containsKey(key: Key, opts: GetOptions = {}): Promise<boolean> {
    const k = keyBytes(key);
    const { result } = await this.exec.runSingle((d) => this.router.locate(k, d), () => ({ op: KvOp.ContainsKey, key: k }), this.readCtx(opts));
    return boolOf(result);
  }

  /** Pairs in [start, end) in key order across regions (null bounds: unbounded), up to `limit`. */
  async scan(start: Key | null, end: Key | null, opts: ScanOptions = {}): Promise<KvPair[]> {
    const s = boundBytes(start, 'start key');
    const e = boundBytes(end, 'end key');
    const limit = scanLimit(opts.limit);
    const returnValue = opts.returnValue ?? true;
    const ctx = this.readCtx(opts);
    const out: KvPair[] = [];
    if (emptyRange(s, e)) return out;
    let cursor = s;
    for (;;) {
      const at = cursor;
      const left = limit > 0 ? limit - out.length : 0;
      const { result, region } = await this.exec.runSingle(
        (d) => this.router.locate(at, d),
        (r) => ({ op: KvOp.Scan, start: orNull(maxStart(at, r.startKey)), end: orNull(minEnd(e, r.endKey)), limit: left, returnValue }),
        ctx,
      );
      pushPairs(out, result, limit);
      if (limit > 0 && out.length >= limit) return out;
      const rEnd = region.endKey;
      if (rEnd.length === 0 || (e.length > 0 && compareKeys(rEnd, e) >= 0)) return out;
      cursor = rEnd;
    }
  }

  /** Pairs in [start, end) in descending key order across regions (walking from the last), up to `limit`. */
  async reverseScan(start: Key | null, end: Key | null, opts: ScanOptions = {}): Promise<KvPair[]> {
    const s = boundBytes(start, 'start key');
    const e = boundBytes(end, 'end key');
    const limit = scanLimit(opts.limit);
    const returnValue = opts.returnValue ?? true;
    const ctx = this.readCtx(opts);
    const out: KvPair[] = [];
    if (emptyRange(s, e)) return out;
    let cursor = e;
    for (;;) {
      const below = cursor;
      const left = limit > 0 ? limit - out.length : 0;
      const { result, region } = await this.exec.runSingle(
        (d) => this.router.locateBefore(below, d),
        (r) => ({ op: KvOp.ReverseScan, start: orNull(maxStart(s, r.startKey)), end: orNull(minEnd(below, r.endKey)), limit: left, returnValue }),
        ctx,
      );
      pushPairs(out, result, limit);
      if (limit > 0 && out.length >= limit) return out;
      const rStart = region.startKey;
      if (rStart.length === 0 || compareKeys(rStart, s) <= 0) return out;
      cursor = rStart;
    }
  }

  /** Iterates [start, end) in key order, a page (scan) at a time. */
  async *iterator(start: Key | null, end: Key | null, opts: IteratorOptions = {}): AsyncGenerator<KvPair, void, undefined> {
    const pageSize = opts.pageSize ?? 100;
    if (!Number.isSafeInteger(pageSize) || pageSize <= 0) throw new KvClientError('INVALID_PARAMETER', `pageSize must be a positive integer (got ${pageSize})`);
    let cursor: Buffer = boundBytes(start, 'start key');
    const e = boundBytes(end, 'end key');
    for (;;) {
      const page = await this.scan(cursor, e, { limit: pageSize, ...(opts.returnValue !== undefined ? { returnValue: opts.returnValue } : {}), ...(opts.consistency ? { consistency: opts.consistency } : {}) });
      for (const p of page) yield p;
      if (page.length < pageSize) return;
      cursor = keyAfter(page[page.length - 1]!.key);
    }
  }

  // ------------------------------------------------------------------ sequences

  /** Takes `step` values from the sequence: [start, end). */
  async getSequence(key: Key, step: number): Promise<SequenceRange> {
    const k = keyBytes(key, 'sequence key');
    if (!Number.isSafeInteger(step) || step < 0) throw new KvClientError('INVALID_PARAMETER', `step must be a non-negative integer (got ${step})`);
    const res = await this.writeKey(k, { op: KvOp.GetSequence, key: k, step });
    if (res.kind !== 'sequence') throw unexpected(res, 'sequence');
    return { start: res.start, end: res.end };
  }

  /** The sequence's next value, taking none (getSequence with step 0). */
  async getLatestSequence(key: Key): Promise<number> {
    return (await this.getSequence(key, 0)).end;
  }

  async resetSequence(key: Key): Promise<void> {
    const k = keyBytes(key, 'sequence key');
    expectOk(await this.writeKey(k, { op: KvOp.ResetSequence, key: k }));
  }

  // ------------------------------------------------------------------ locks

  /** Acquires (or re-enters, or with keepLease renews) the lease lock on `key`. */
  async lock(key: Key, o: LockOptions): Promise<LockResult> {
    const k = keyBytes(key, 'lock key');
    const id = o?.acquirerId ?? this.clientId;
    if (typeof id !== 'string' || id === '') throw new KvClientError('INVALID_PARAMETER', 'acquirerId must be a non-empty string');
    if (!o || !Number.isSafeInteger(o.leaseMs) || o.leaseMs <= 0) throw new KvClientError('INVALID_PARAMETER', `leaseMs must be a positive integer (got ${o?.leaseMs})`);
    const res = await this.writeKey(k, { op: KvOp.KeyLock, key: k, acquirer: { id, leaseMs: o.leaseMs, stampMs: 0 }, keepLease: o.keepLease === true });
    return lockOf(res);
  }

  /** Releases one hold of the lock on `key`. */
  async unlock(key: Key, acquirerId?: string): Promise<LockResult> {
    const k = keyBytes(key, 'lock key');
    const id = acquirerId ?? this.clientId;
    if (typeof id !== 'string' || id === '') throw new KvClientError('INVALID_PARAMETER', 'acquirerId must be a non-empty string');
    const res = await this.writeKey(k, { op: KvOp.KeyLockRelease, key: k, acquirer: { id, leaseMs: 0, stampMs: 0 } });
    return lockOf(res);
  }

  /** A lock object on `key` (tryLock / unlock / fencingToken), with an optional lease watchdog. */
  distributedLock(key: Key, o: DistributedLockOptions): DistributedLock {
    keyBytes(key, 'lock key');
    if (!o || !Number.isSafeInteger(o.leaseMs) || o.leaseMs <= 0) throw new KvClientError('INVALID_PARAMETER', `leaseMs must be a positive integer (got ${o?.leaseMs})`);
    const id = o.acquirerId ?? `${this.clientId}:lock-${++this.lockCounter}`;
    return new DistributedLock(this, key, id, o.leaseMs, o.watchdog === true, this.watchdogs);
  }

  // ------------------------------------------------------------------ regions and callbacks

  /** Runs the store callback `name` through the log of the region holding `key` (default: the first region). */
  async execute(name: string, payload: Uint8Array, o: ExecuteOptions = {}): Promise<Buffer | null> {
    if (typeof name !== 'string' || name === '') throw new KvClientError('INVALID_PARAMETER', 'callback name must be a non-empty string');
    if (!(payload instanceof Uint8Array)) throw new KvClientError('INVALID_PARAMETER', 'payload must be a Uint8Array');
    const k = o.key === undefined ? undefined : keyBytes(o.key);
    const { result } = await this.exec.runSingle(
      (d) => (k ? this.router.locate(k, d) : this.router.first(d)),
      () => ({ op: KvOp.NodeExecute, name, payload }),
      this.ctx(true),
    );
    return valueOf(result, 'value');
  }

  /** Splits region `regionId` at `splitKey` (default: the store picks the middle key). */
  async rangeSplit(regionId: string, splitKey?: Key): Promise<SplitResult> {
    if (typeof regionId !== 'string' || regionId === '') throw new KvClientError('INVALID_PARAMETER', 'regionId must be a non-empty string');
    const sk = splitKey === undefined || splitKey === null ? null : keyBytes(splitKey, 'split key');
    const { result, region } = await this.exec.runSingle(
      async (d) => {
        const r = await this.router.byId(regionId, d);
        if (sk && (!contains(r, sk) || compareKeys(sk, r.startKey) === 0)) {
          throw new KvClientError('INVALID_PARAMETER', `split key ${toWireKey(sk)} (base64) is not strictly inside region ${r.id}`, r.id);
        }
        return r;
      },
      () => ({ op: KvOp.RangeSplit, splitKey: sk, newRegionId: '', expectVersion: 0, voters: [], learners: [] }),
      this.ctx(true),
    );
    if (result.kind !== 'split') throw unexpected(result, 'split');
    // The leader that answered has applied the split; lagging replicas may not have yet.
    const leader = this.router.table.leaderOf(region.id);
    await (leader ? this.router.refreshFrom(leader, this.deadline()) : this.router.refresh(this.deadline()));
    return { left: result.left, right: result.right, splitKey: asBuffer(result.splitKey) };
  }

  /** The route table, refreshed from the stores. */
  async regions(): Promise<RegionDescriptor[]> {
    this.life.check();
    await this.router.refresh(this.deadline());
    return this.router.table.all().map((r) => this.describe(r));
  }

  /** Fetches the route table from the stores now; resolves with whether it changed. */
  async refreshRoutes(): Promise<boolean> {
    this.life.check();
    return this.router.refresh(this.deadline());
  }

  /** Requests sent to stores so far (every attempt counts), for tests and status. */
  get requestCount(): number {
    return this.rpc.requests;
  }

  /** Stops batching, watchdogs and retries; pending calls fail with CLOSED. Closes the transport if the client made it. */
  async close(): Promise<void> {
    if (this.life.closed) return;
    this.life.close();
    this.batcher?.close();
    for (const l of [...this.watchdogs]) l.stop();
    if (this.ownsTransport) await this.transport.close();
  }

  // ------------------------------------------------------------------ internals

  private deadline(): number {
    return Date.now() + this.timeoutMs;
  }

  private consistency(c: ReadConsistency | undefined): ReadConsistency {
    const v = c ?? this.readConsistency;
    if (!CONSISTENCIES.has(v)) throw new KvClientError('INVALID_PARAMETER', `bad consistency '${String(c)}'`);
    return v;
  }

  private ctx(write: boolean): OpContext {
    this.life.check();
    return { deadline: this.deadline(), write };
  }

  private readCtx(o: { consistency?: ReadConsistency; follower?: boolean }): OpContext {
    this.life.check();
    return { deadline: this.deadline(), write: false, consistency: this.consistency(o.consistency), ...(o.follower ? { follower: true } : {}) };
  }

  /** A write of one key, routed to its region. */
  private async writeKey(k: Buffer, cmd: KvCommand): Promise<KvResult> {
    const { result } = await this.exec.runSingle((d) => this.router.locate(k, d), () => cmd, this.ctx(true));
    return result;
  }

  private async putOne(k: Buffer, v: Buffer, deadline: number): Promise<void> {
    this.life.check();
    const { result } = await this.exec.runSingle((d) => this.router.locate(k, d), () => ({ op: KvOp.Put, key: k, value: v }), { deadline, write: true });
    expectOk(result);
  }

  private async getOne(k: Buffer, consistency: ReadConsistency, follower: boolean, deadline: number): Promise<Buffer | null> {
    this.life.check();
    const { result } = await this.exec.runSingle((d) => this.router.locate(k, d), () => ({ op: KvOp.Get, key: k }), {
      deadline,
      write: false,
      consistency,
      ...(follower ? { follower } : {}),
    });
    return valueOf(result, 'value');
  }

  private describe(r: RegionRoute): RegionDescriptor {
    return {
      id: r.id,
      startKey: Buffer.from(r.startKey),
      endKey: Buffer.from(r.endKey),
      epoch: { ...r.epoch },
      voters: r.voters.map((p) => ({ ...p })),
      learners: r.learners.map((p) => ({ ...p })),
      leader: this.router.table.leaderOf(r.id) ?? '',
    };
  }
}

// ---------------------------------------------------------------- result helpers

function positive(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new KvClientError('INVALID_ARGUMENT', `${what} must be a positive number (got ${String(v)})`);
  return v;
}

function scanLimit(limit: number | undefined): number {
  const l = limit ?? 0;
  if (!Number.isSafeInteger(l) || l < 0 || l > 0xffffffff) throw new KvClientError('INVALID_PARAMETER', `limit must be a non-negative integer (got ${limit})`);
  return l;
}

function orNull(b: Buffer): Buffer | null {
  return b.length === 0 ? null : b;
}

function unexpected(res: KvResult, want: string): KvClientError {
  return new KvClientError('INTERNAL', `unexpected '${res.kind}' result (wanted '${want}')`);
}

function expectOk(res: KvResult): void {
  if (res.kind !== 'ok') throw unexpected(res, 'ok');
}

function valueOf(res: KvResult, want: 'value'): Buffer | null {
  if (res.kind !== want) throw unexpected(res, want);
  return res.value ? asBuffer(res.value) : null;
}

function boolOf(res: KvResult): boolean {
  if (res.kind !== 'bool') throw unexpected(res, 'bool');
  return res.value;
}

function lockOf(res: KvResult): LockResult {
  if (res.kind !== 'lock') throw unexpected(res, 'lock');
  return { success: res.success, owner: res.owner, fencingToken: res.fencingToken, count: res.count, remainingMs: res.remainingMs };
}

function pushPairs(out: KvPair[], res: KvResult, limit: number): void {
  if (res.kind !== 'pairs') throw unexpected(res, 'pairs');
  for (const [k, v] of res.pairs) {
    if (limit > 0 && out.length >= limit) return;
    out.push({ key: asBuffer(k), value: v ? asBuffer(v) : null });
  }
}
