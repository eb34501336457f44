// A fake KV store cluster for the client's tests: store endpoints on a MemoryHub answering the
// KV protocol (KvTag.Regions and KvTag.Command, src/kv/protocol.ts) from one in-memory sorted
// map, with regions and leaders set by the test, and knobs to inject faults. It follows the
// protocol's request handling order:
//   region lookup -> epoch -> keys inside the region -> parameters -> leadership -> overload ->
//   retry cache / apply.
// Every store listens twice on the hub: under its node id ('n1') and under its address-only id
// ('@mem:1'), the id a client derives from the endpoint "mem:1".

import { type Bytes, type KvCommand, KvOp, type KvResult, decodeCommand, encodeResult } from '../../src/kv/commands.js';
import { type KvErrorHeader, type KvRequestHeader, KvTag, type RegionInfo, type RegionsReply, toWireKey } from '../../src/kv/protocol.js';
import { decodeEnvelope, encodeEnvelope } from '../../src/raft/runtime/rpc-router.js';
import { MemoryHub, type MemoryTransport } from '../../src/transport/memory-transport.js';
import { type KvClient, type KvClientOptions, createClient } from '../../src/kv/client/index.js';

export interface FakeRegion {
  id: string;
  start: Buffer;
  end: Buffer;
  version: number;
  confVer: number;
  voters: string[];
  learners: string[];
  /** The node that leads it ('' = no leader). */
  leader: string;
  /** What Regions replies say about its leader (default: the real one). */
  reportedLeader?: string;
}

export interface FakeRequest {
  readonly store: string;
  readonly tag: number;
  readonly regionId: string;
  readonly header: KvRequestHeader;
  readonly cmd?: KvCommand;
  /** 'ok', an error code, or 'dropped'. */
  outcome: string;
  /** Answered from the retry cache. */
  cached?: boolean;
}

/** A hook's verdict for one command request. */
export type Verdict = 'drop' | 'busy' | 'refuse-at-apply' | 'refuse-at-apply-and-drop' | 'timeout' | undefined;

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const buf = (b: Uint8Array): Buffer => Buffer.from(b);

export class StoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: Partial<KvErrorHeader> = {},
  ) {
    super(message);
  }
}

export interface FakeClusterOptions {
  /** Number of stores (n1..nN). Default 3. */
  stores?: number;
  /** Split keys: regions r1 = [-inf, k1), r2 = [k1, k2), ... Default none (one region). */
  splitKeys?: string[];
  /** Leader of every region at start. Default 'n1'. */
  leader?: string;
}

export class FakeCluster {
  readonly hub = new MemoryHub();
  regions: FakeRegion[] = [];
  readonly storeIds: string[];
  readonly log: FakeRequest[] = [];
  /** Sorted by hex key when scanning. */
  readonly data = new Map<string, Buffer>();
  private readonly seqs = new Map<string, number>();
  private readonly locks = new Map<string, { owner: string; count: number; deadline: number; token: number }>();
  private fencing = 0;
  /** regionId|clientId|callId -> reply. */
  readonly retryCache = new Map<string, KvResult>();
  /** Commands actually applied (not answered from the cache). */
  applied = 0;
  private nextRegion = 1;
  private readonly endpoints = new Map<string, MemoryTransport[]>();
  private readonly clients: Array<{ client: KvClient; transport: MemoryTransport }> = [];
  private nextClient = 1;

  // ---- knobs
  /** NOT_LEADER replies carry leaderId/leaderAddress. */
  hints = true;
  /** NOT_LEADER hints carry only the leader's address (no id). */
  hintAddressOnly = false;
  /** The next N command requests that pass the checks get SERVER_BUSY. */
  busy = 0;
  /** Keys refused with INVALID_PARAMETER (besides empty ones). */
  badKey: (key: Buffer) => boolean = (k) => k.toString().startsWith('bad');
  /** Called first for every command request (e.g. to split a region mid-operation). */
  before: ((req: FakeRequest) => void) | undefined;
  /** Called after the checks, before the retry cache and apply. */
  atApply: ((req: FakeRequest) => Verdict) | undefined;
  /** nodeExecute callbacks. */
  readonly callbacks = new Map<string, (payload: Uint8Array) => Uint8Array | null>();
  /** Stores that lag one split behind: they answer with the region as it was (version - 1). */
  readonly lagging = new Set<string>();
  /** Stores whose Regions replies are frozen (a replica that has not applied recent splits). */
  readonly frozenRegions = new Map<string, RegionInfo[]>();
  /** `${store}|${region}` pairs where the store has not created the region yet. */
  readonly missing = new Set<string>();
  /**
   * How a state machine's refusal (a result of kind 'error', e.g. INVALID_REGION_EPOCH at apply)
   * reaches the client: as an error reply with the region as it is now (what the real store
   * does), or inside an ok reply's result.
   */
  resultErrorsAs: 'error' | 'result' = 'error';
  /** rangeSplit refuses regions with fewer keys. */
  minSplitKeys = 2;

  constructor(o: FakeClusterOptions = {}) {
    const n = o.stores ?? 3;
    this.storeIds = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    const splits = (o.splitKeys ?? []).map(enc);
    const bounds = [Buffer.alloc(0), ...splits, Buffer.alloc(0)];
    for (let i = 0; i + 1 < bounds.length; i++) {
      this.regions.push({
        id: `r${this.nextRegion++}`,
        start: bounds[i]!,
        end: bounds[i + 1]!,
        version: 1,
        confVer: 1,
        voters: [...this.storeIds],
        learners: [],
        leader: o.leader ?? 'n1',
      });
    }
  }

  static async start(o: FakeClusterOptions = {}): Promise<FakeCluster> {
    const c = new FakeCluster(o);
    for (const id of c.storeIds) await c.up(id);
    return c;
  }

  /** Addresses of stores served elsewhere (e.g. over TCP); default "mem:<n>". */
  readonly addresses = new Map<string, string>();

  address(node: string): string {
    return this.addresses.get(node) ?? `mem:${node.slice(1)}`;
  }

  get endpointList(): string[] {
    return this.storeIds.map((s) => this.address(s));
  }

  /** Starts (or restarts) a store. */
  async up(node: string): Promise<void> {
    if (this.endpoints.has(node)) return;
    const ts = [this.hub.endpoint({ nodeId: node }), this.hub.endpoint({ nodeId: `@${this.address(node)}` })];
    for (const t of ts) {
      t.onRequest((groupId, payload) => this.handle(node, groupId, payload));
      await t.listen();
    }
    this.endpoints.set(node, ts);
  }

  /** Stops a store: requests to it fail with UNREACHABLE. */
  async down(node: string): Promise<void> {
    const ts = this.endpoints.get(node);
    this.endpoints.delete(node);
    for (const t of ts ?? []) await t.close();
  }

  /** A client on this hub (closed by close()). */
  async client(o: Partial<KvClientOptions> = {}): Promise<KvClient> {
    const transport = this.hub.endpoint({ nodeId: `client-${this.nextClient++}` });
    await transport.listen();
    const client = createClient({ endpoints: this.endpointList, timeoutMs: 2000, attemptTimeoutMs: 200, transport, ...o });
    this.clients.push({ client, transport });
    return client;
  }

  async close(): Promise<void> {
    for (const { client, transport } of this.clients) {
      await client.close();
      await transport.close();
    }
    for (const id of [...this.endpoints.keys()]) await this.down(id);
  }

  region(id: string): FakeRegion {
    const r = this.regions.find((x) => x.id === id);
    if (!r) throw new Error(`no region ${id}`);
    return r;
  }

  regionOf(key: string | Buffer): FakeRegion {
    const k = typeof key === 'string' ? enc(key) : key;
    return this.regions.find((r) => inRegion(r, k))!;
  }

  /** From now on `store` answers Regions requests with the layout as it is now. */
  freezeRegions(store: string): void {
    this.frozenRegions.set(store, this.regions.map((r) => this.info(r)));
  }

  /** Splits a region at `key` (both halves get version + 1); returns the new right-hand region. */
  split(regionId: string, key: string | Buffer): FakeRegion {
    const r = this.region(regionId);
    const k = typeof key === 'string' ? enc(key) : key;
    if (!inRegion(r, k) || k.equals(r.start)) throw new Error(`split key outside ${regionId}`);
    r.version++;
    const right: FakeRegion = { ...r, id: `r${this.nextRegion++}`, start: k, end: r.end, voters: [...r.voters], learners: [...r.learners], reportedLeader: undefined };
    r.end = k;
    this.regions.splice(this.regions.indexOf(r) + 1, 0, right);
    return right;
  }

  setLeader(regionId: string, node: string): void {
    this.region(regionId).leader = node;
  }

  value(key: string): string | undefined {
    return this.data.get(hex(enc(key)))?.toString();
  }

  /** Command requests logged, optionally of one op. */
  commands(op?: KvOp): FakeRequest[] {
    return this.log.filter((r) => r.tag === KvTag.Command && (op === undefined || r.cmd?.op === op));
  }

  info(r: FakeRegion): RegionInfo {
    return {
      id: r.id,
      startKey: toWireKey(r.start),
      endKey: toWireKey(r.end),
      epoch: { confVer: r.confVer, version: r.version },
      voters: r.voters.map((id) => ({ id, address: this.address(id) })),
      learners: r.learners.map((id) => ({ id, address: this.address(id) })),
      leader: r.reportedLeader ?? r.leader,
    };
  }

  // ---------------------------------------------------------------- request handling

  /** Answers one request as store `store` (the hub endpoints call it; tests may serve it elsewhere). */
  handle(store: string, groupId: string, payload: Uint8Array): Promise<Uint8Array> | Uint8Array {
    const req = decodeEnvelope<KvRequestHeader>(payload);
    if (req.tag === KvTag.Regions) {
      this.log.push({ store, tag: req.tag, regionId: '', header: req.header, outcome: 'ok' });
      const regions = this.frozenRegions.get(store) ?? this.regions.filter((r) => r.voters.includes(store) || r.learners.includes(store)).map((r) => this.info(r));
      const reply: RegionsReply = { storeId: store, regions };
      return encodeEnvelope(0, reply);
    }
    if (req.tag !== KvTag.Command) throw new Error(`unexpected tag ${req.tag}`);
    const entry: FakeRequest = { store, tag: req.tag, regionId: groupId, header: req.header, cmd: decodeCommand(req.body), outcome: '?' };
    this.log.push(entry);
    try {
      this.before?.(entry);
      const res = this.command(store, entry);
      if (res === 'drop') {
        entry.outcome = 'dropped';
        return new Promise<Uint8Array>(() => {});
      }
      entry.outcome = 'ok';
      return encodeEnvelope(0, { index: this.applied }, encodeResult(res));
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      entry.outcome = e.code;
      return encodeEnvelope(1, { code: e.code, message: e.message, ...e.extra });
    }
  }

  private command(store: string, req: FakeRequest): KvResult | 'drop' {
    const h = req.header;
    const c = req.cmd!;
    // 1. region lookup
    const r = this.regions.find((x) => x.id === req.regionId);
    if (!r || !(r.voters.includes(store) || r.learners.includes(store)) || this.missing.has(`${store}|${req.regionId}`)) {
      throw new StoreError('NO_REGION_FOUND', `store ${store} hosts no region ${req.regionId}`);
    }
    if (this.lagging.has(store)) {
      const old = this.info(r);
      throw new StoreError('INVALID_REGION_EPOCH', 'this replica is behind', { region: { ...old, epoch: { ...old.epoch, version: r.version - 1 } } });
    }
    // 2. epoch
    if (h.version !== r.version) throw new StoreError('INVALID_REGION_EPOCH', `version ${h.version} != ${r.version}`, { region: this.info(r) });
    // 3. keys inside the region
    for (const k of keysOf(c)) if (k.length > 0 && !inRegion(r, buf(k))) throw new StoreError('INVALID_REGION_EPOCH', `key ${hex(k)} outside ${r.id}`, { region: this.info(r) });
    const range = rangeOf(c);
    if (range) {
      const startOk = range.start === null ? r.start.length === 0 : Buffer.compare(buf(range.start), r.start) >= 0;
      const endOk = r.end.length === 0 ? true : range.end !== null && range.end.length > 0 && Buffer.compare(buf(range.end), r.end) <= 0;
      if (!startOk || !endOk) throw new StoreError('INVALID_REGION_EPOCH', `range outside ${r.id}`, { region: this.info(r) });
    }
    // 4. parameters
    for (const k of keysOf(c)) {
      if (k.length === 0) throw new StoreError('INVALID_PARAMETER', 'empty key');
      if (this.badKey(buf(k))) throw new StoreError('INVALID_PARAMETER', `bad key ${buf(k).toString()}`);
    }
    if ((c.op === KvOp.PutList || c.op === KvOp.ComparePutAll) && c.entries.length === 0) throw new StoreError('INVALID_PARAMETER', 'no entries');
    if (c.op === KvOp.NodeExecute && !this.callbacks.has(c.name)) throw new StoreError('UNKNOWN_CALLBACK', `no callback ${c.name}`);
    // 5. leadership
    const read = c.op === KvOp.Get || c.op === KvOp.MultiGet || c.op === KvOp.ContainsKey || c.op === KvOp.Scan || c.op === KvOp.ReverseScan;
    if (!(read && h.follower)) {
      if (r.leader === '') throw new StoreError('NO_LEADER', 'election in progress');
      if (r.leader !== store) {
        throw new StoreError('NOT_LEADER', `${store} does not lead ${r.id}`, !this.hints ? {} : this.hintAddressOnly ? { leaderAddress: this.address(r.leader) } : { leaderId: r.leader, leaderAddress: this.address(r.leader) });
      }
    }
    // 6. overload, hooks
    if (this.busy > 0) {
      this.busy--;
      throw new StoreError('SERVER_BUSY', 'busy');
    }
    const verdict = this.atApply?.(req);
    if (verdict === 'busy') throw new StoreError('SERVER_BUSY', 'busy (hook)');
    if (verdict === 'timeout') throw new StoreError('TIMEOUT', 'commit wait timed out (hook)');
    if (read) return verdict === 'drop' ? 'drop' : this.read(c);
    // 7. retry cache, then apply
    const cacheKey = h.clientId !== undefined && h.callId !== undefined ? `${r.id}|${h.clientId}|${h.callId}` : undefined;
    const cached = cacheKey ? this.retryCache.get(cacheKey) : undefined;
    let res: KvResult;
    if (cached) {
      req.cached = true;
      res = cached;
    } else {
      const refuse = verdict === 'refuse-at-apply' || verdict === 'refuse-at-apply-and-drop';
      res = refuse ? { kind: 'error', code: 'INVALID_REGION_EPOCH', message: 'split committed first' } : this.apply(store, r, c);
      if (cacheKey) this.retryCache.set(cacheKey, res);
    }
    if (verdict === 'drop' || verdict === 'refuse-at-apply-and-drop') return 'drop';
    if (res.kind === 'error' && this.resultErrorsAs === 'error') {
      throw new StoreError(res.code, res.message, res.code === 'INVALID_REGION_EPOCH' ? { region: this.info(r) } : {});
    }
    return res;
  }

  private read(c: KvCommand): KvResult {
    switch (c.op) {
      case KvOp.Get:
        return { kind: 'value', value: this.data.get(hex(c.key)) ?? null };
      case KvOp.MultiGet:
        return { kind: 'values', values: c.keys.map((k) => this.data.get(hex(k)) ?? null) };
      case KvOp.ContainsKey:
        return { kind: 'bool', value: this.data.has(hex(c.key)) };
      case KvOp.Scan:
      case KvOp.ReverseScan: {
        let keys = [...this.data.keys()].sort().filter((k) => (c.start === null || k >= hex(c.start)) && (c.end === null || k < hex(c.end)));
        if (c.op === KvOp.ReverseScan) keys = keys.reverse();
        if (c.limit > 0) keys = keys.slice(0, c.limit);
        return { kind: 'pairs', pairs: keys.map((k) => [Buffer.from(k, 'hex'), c.returnValue ? this.data.get(k)! : null] as const) };
      }
      default:
        throw new StoreError('INVALID_PARAMETER', 'not a read');
    }
  }

  private apply(store: string, r: FakeRegion, c: KvCommand): KvResult {
    this.applied++;
    const get = (k: Bytes): Buffer | null => this.data.get(hex(k)) ?? null;
    const put = (k: Bytes, v: Bytes): void => void this.data.set(hex(k), buf(v));
    switch (c.op) {
      case KvOp.Put:
        put(c.key, c.value);
        return { kind: 'ok' };
      case KvOp.PutList:
        for (const [k, v] of c.entries) put(k, v);
        return { kind: 'ok' };
      case KvOp.PutIfAbsent: {
        const prev = get(c.key);
        if (prev === null) put(c.key, c.value);
        return { kind: 'value', value: prev };
      }
      case KvOp.GetPut: {
        const prev = get(c.key);
        put(c.key, c.value);
        return { kind: 'value', value: prev };
      }
      case KvOp.ComparePut: {
        const cur = get(c.key);
        if (!same(cur, c.expect)) return { kind: 'bool', value: false };
        put(c.key, c.value);
        return { kind: 'bool', value: true };
      }
      case KvOp.ComparePutAll:
        for (const [k, e] of c.entries) if (!same(get(k), e)) return { kind: 'bool', value: false };
        for (const [k, , v] of c.entries) put(k, v);
        return { kind: 'bool', value: true };
      case KvOp.Merge: {
        const prev = get(c.key);
        put(c.key, prev === null ? c.value : Buffer.concat([prev, enc(','), buf(c.value)]));
        return { kind: 'ok' };
      }
      case KvOp.Delete:
        this.data.delete(hex(c.key));
        return { kind: 'ok' };
      case KvOp.DeleteList:
        for (const k of c.keys) this.data.delete(hex(k));
        return { kind: 'ok' };
      case KvOp.DeleteRange:
        for (const k of [...this.data.keys()]) if (k >= hex(c.start) && k < hex(c.end)) this.data.delete(k);
        return { kind: 'ok' };
      case KvOp.GetSequence: {
        const start = this.seqs.get(hex(c.key)) ?? 0;
        this.seqs.set(hex(c.key), start + c.step);
        return { kind: 'sequence', start, end: start + c.step };
      }
      case KvOp.ResetSequence:
        this.seqs.delete(hex(c.key));
        return { kind: 'ok' };
      case KvOp.KeyLock: {
        const now = Date.now();
        const k = hex(c.key);
        const cur = this.locks.get(k);
        const live = cur && cur.deadline > now;
        if (live && cur.owner !== c.acquirer.id) return { kind: 'lock', success: false, owner: cur.owner, fencingToken: cur.token, count: cur.count, remainingMs: cur.deadline - now };
        const next =
          live && cur
            ? { ...cur, count: c.keepLease ? cur.count : cur.count + 1, deadline: now + c.acquirer.leaseMs }
            : { owner: c.acquirer.id, count: 1, deadline: now + c.acquirer.leaseMs, token: ++this.fencing };
        this.locks.set(k, next);
        return { kind: 'lock', success: true, owner: next.owner, fencingToken: next.token, count: next.count, remainingMs: c.acquirer.leaseMs };
      }
      case KvOp.KeyLockRelease: {
        const now = Date.now();
        const k = hex(c.key);
        const cur = this.locks.get(k);
        if (!cur || cur.owner !== c.acquirer.id || cur.deadline <= now) return { kind: 'lock', success: false, owner: cur?.owner ?? '', fencingToken: cur?.token ?? 0, count: 0, remainingMs: 0 };
        if (cur.count > 1) {
          cur.count--;
          return { kind: 'lock', success: true, owner: cur.owner, fencingToken: cur.token, count: cur.count, remainingMs: cur.deadline - now };
        }
        this.locks.delete(k);
        return { kind: 'lock', success: true, owner: cur.owner, fencingToken: cur.token, count: 0, remainingMs: 0 };
      }
      case KvOp.NodeExecute: {
        const fn = this.callbacks.get(c.name)!;
        try {
          return { kind: 'value', value: fn(c.payload) };
        } catch (e) {
          return { kind: 'error', code: 'CALLBACK_FAILED', message: (e as Error).message };
        }
      }
      case KvOp.RangeSplit: {
        const keys = [...this.data.keys()].sort().filter((k) => inRegion(r, Buffer.from(k, 'hex')));
        if (c.splitKey === null && keys.length < this.minSplitKeys) {
          this.applied--;
          throw new StoreError('TOO_SMALL_TO_SPLIT', `${r.id} has ${keys.length} keys`);
        }
        const sk = c.splitKey ? buf(c.splitKey) : Buffer.from(keys[keys.length >> 1]!, 'hex');
        const right = this.split(r.id, sk);
        void store;
        return { kind: 'split', left: r.id, right: right.id, splitKey: sk };
      }
      default:
        throw new StoreError('INVALID_PARAMETER', 'not a write');
    }
  }
}

function inRegion(r: { start: Buffer; end: Buffer }, k: Buffer): boolean {
  return Buffer.compare(r.start, k) <= 0 && (r.end.length === 0 || Buffer.compare(k, r.end) < 0);
}

function same(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.compare(buf(a), buf(b)) === 0;
}

/** The single keys a command touches. */
function keysOf(c: KvCommand): Bytes[] {
  switch (c.op) {
    case KvOp.Put:
    case KvOp.PutIfAbsent:
    case KvOp.GetPut:
    case KvOp.Merge:
    case KvOp.ComparePut:
    case KvOp.Delete:
    case KvOp.GetSequence:
    case KvOp.ResetSequence:
    case KvOp.KeyLock:
    case KvOp.KeyLockRelease:
    case KvOp.Get:
    case KvOp.ContainsKey:
      return [c.key];
    case KvOp.PutList:
    case KvOp.ComparePutAll:
      return c.entries.map((e) => e[0]);
    case KvOp.DeleteList:
    case KvOp.MultiGet:
      return [...c.keys];
    case KvOp.RangeSplit:
      return c.splitKey ? [c.splitKey] : [];
    default:
      return [];
  }
}

function rangeOf(c: KvCommand): { start: Bytes | null; end: Bytes | null } | undefined {
  if (c.op === KvOp.Scan || c.op === KvOp.ReverseScan) return { start: c.start, end: c.end };
  if (c.op === KvOp.DeleteRange) return { start: c.start, end: c.end };
  return undefined;
}

/** Polls `cond` every few ms until it holds (or fails after `ms`). */
export async function waitFor(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const str = (b: Buffer | null): string | null => (b === null ? null : b.toString());
