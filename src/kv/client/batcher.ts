// Automatic batching: put() calls issued in the same event-loop turn travel together, per
// region, as one PutList request (get() calls of the same read mode as one MultiGet), bounded by
// maxCount entries and maxBytes. A batch flushes on setImmediate, or at once when it is full.
// Every caller gets its own result or error:
//   * a batch refused for stale routes is re-split over the new regions and retried (executor);
//   * a batch the store refuses as a whole with INVALID_PARAMETER (one bad entry spoils the
//     request) is retried member by member, so only the bad caller fails;
//   * any other failure fails the batch's members with it.

import { KvOp } from '../commands.js';
import type { ReadConsistency } from '../protocol.js';
import { KvClientError } from './errors.js';
import type { Executor, Plan } from './executor.js';
import { asBuffer } from './keys.js';
import { closedError } from './lifecycle.js';
import type { Router } from './router.js';
import { splitAndChunk } from './split.js';

export interface BatchLimits {
  readonly maxCount: number;
  readonly maxBytes: number;
}

interface Member<R> {
  readonly key: Buffer;
  readonly size: number;
  readonly deadline: number;
  settled: boolean;
  resolve(r: R): void;
  reject(e: unknown): void;
}

interface PutMember extends Member<void> {
  readonly value: Buffer;
}

type GetMember = Member<Buffer | null>;

/** Per-entry overhead counted against maxBytes (the codec's length prefixes). */
const ENTRY_OVERHEAD = 8;

class Queue<M extends Member<unknown>> {
  private pending: M[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(
    private readonly limits: BatchLimits,
    private readonly send: (members: M[]) => void,
  ) {}

  add(m: M): void {
    this.pending.push(m);
    this.bytes += m.size;
    if (this.pending.length >= this.limits.maxCount || this.bytes >= this.limits.maxBytes) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  flush(): void {
    const ms = this.pending;
    if (ms.length === 0) return;
    this.pending = [];
    this.bytes = 0;
    this.send(ms);
  }

  failAll(err: unknown): void {
    const ms = this.pending;
    this.pending = [];
    this.bytes = 0;
    for (const m of ms) settle(m, err);
  }
}

function settle<R>(m: Member<R>, err: unknown, value?: R): void {
  if (m.settled) return;
  m.settled = true;
  if (err !== undefined) m.reject(err);
  else m.resolve(value as R);
}

export interface Unbatched {
  put(key: Buffer, value: Buffer, deadline: number): Promise<void>;
  get(key: Buffer, consistency: ReadConsistency, follower: boolean, deadline: number): Promise<Buffer | null>;
}

export class Batcher {
  private readonly puts: Queue<PutMember>;
  private readonly gets = new Map<string, Queue<GetMember>>();
  private closed = false;

  constructor(
    private readonly exec: Executor,
    private readonly router: Router,
    private readonly limits: BatchLimits,
    /** The single-key paths, for retrying members one by one. */
    private readonly single: Unbatched,
  ) {
    this.puts = new Queue(limits, (ms) => this.sendPuts(ms));
  }

  put(key: Buffer, value: Buffer, deadline: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<void>((resolve, reject) => {
      this.puts.add({ key, value, size: key.length + value.length + ENTRY_OVERHEAD, deadline, settled: false, resolve, reject });
    });
  }

  get(key: Buffer, consistency: ReadConsistency, follower: boolean, deadline: number): Promise<Buffer | null> {
    if (this.closed) return Promise.reject(closedError());
    const mode = `${consistency}|${follower ? 'f' : 'l'}`;
    let q = this.gets.get(mode);
    if (!q) this.gets.set(mode, (q = new Queue(this.limits, (ms) => this.sendGets(ms, consistency, follower))));
    const queue = q;
    return new Promise<Buffer | null>((resolve, reject) => {
      queue.add({ key, size: key.length + ENTRY_OVERHEAD, deadline, settled: false, resolve, reject });
    });
  }

  close(): void {
    this.closed = true;
    const err = closedError();
    this.puts.failAll(err);
    for (const q of this.gets.values()) q.failAll(err);
  }

  private sendPuts(members: PutMember[]): void {
    const plan: Plan<PutMember[]> = {
      split: (ms, d) => splitAndChunk(ms, (m) => m.key, this.router, d, this.limits.maxCount, this.limits.maxBytes, (m) => m.size),
      build: (_, part) =>
        part.length === 1
          ? { op: KvOp.Put, key: part[0]!.key, value: part[0]!.value }
          : { op: KvOp.PutList, entries: part.map((m) => [m.key, m.value] as const) },
      done: (part, res) => {
        if (res.kind !== 'ok') throw new KvClientError('INTERNAL', `unexpected '${res.kind}' result for a put`);
        for (const m of part) settle(m, undefined);
      },
      fail: (part, err) => this.failMembers<void, PutMember>(part, err, (m) => this.single.put(m.key, m.value, m.deadline)),
    };
    void this.exec.run(members, plan, { deadline: minDeadline(members), write: true });
  }

  private sendGets(members: GetMember[], consistency: ReadConsistency, follower: boolean): void {
    const plan: Plan<GetMember[]> = {
      split: (ms, d) => splitAndChunk(ms, (m) => m.key, this.router, d, this.limits.maxCount, this.limits.maxBytes, (m) => m.size),
      build: (_, part) => (part.length === 1 ? { op: KvOp.Get, key: part[0]!.key } : { op: KvOp.MultiGet, keys: part.map((m) => m.key) }),
      done: (part, res) => {
        if (part.length === 1 && res.kind === 'value') {
          settle(part[0]!, undefined, res.value ? asBuffer(res.value) : null);
          return;
        }
        if (res.kind !== 'values' || res.values.length !== part.length) {
          throw new KvClientError('INTERNAL', `unexpected '${res.kind}' result for a batch of ${part.length} gets`);
        }
        part.forEach((m, i) => {
          const v = res.values[i];
          settle(m, undefined, v ? asBuffer(v) : null);
        });
      },
      fail: (part, err) => this.failMembers<Buffer | null, GetMember>(part, err, (m) => this.single.get(m.key, consistency, follower, m.deadline)),
    };
    void this.exec.run(members, plan, { deadline: minDeadline(members), write: false, consistency, ...(follower ? { follower } : {}) });
  }

  private failMembers<R, M extends Member<R>>(part: M[], err: unknown, one: (m: M) => Promise<R>): void {
    const open = part.filter((m) => !m.settled);
    if (open.length > 1 && err instanceof KvClientError && err.code === 'INVALID_PARAMETER' && !this.closed) {
      // One bad entry refuses the whole request: find it by sending each on its own.
      for (const m of open) one(m).then((v) => settle(m, undefined, v), (e: unknown) => settle(m, e ?? new Error('failed')));
      return;
    }
    for (const m of open) settle(m, err ?? new Error('failed'));
  }
}

function minDeadline(ms: ReadonlyArray<{ deadline: number }>): number {
  let d = Infinity;
  for (const m of ms) if (m.deadline < d) d = m.deadline;
  return d;
}
