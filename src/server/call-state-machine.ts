// Wraps the user's state machine for RaftServer: unwraps client call envelopes, applies each
// (clientId, callId) at most once on every replica, and answers duplicates (a retry that was
// proposed again, e.g. by a new leader) with the original reply from the retry cache.
//
// Duplicates are decided in applySerial (strictly in commit order, entry by entry), so two
// copies of one call in the same batch are recognised; apply() then runs the user's batch on the
// fresh entries only. The retry cache is saved inside snapshots next to the user's image.

import type { ConfState, NodeId } from '../raft/core/types.js';
import type { CommittedEntry, SnapshotImage, StateMachine } from '../raft/runtime/state-machine.js';
import { type Call, decodeCall } from './call-envelope.js';
import { RetryCache } from './retry-cache.js';

interface Decision {
  readonly call: Call | undefined;
  readonly duplicate: boolean;
}

/** The reply kept for a call applied before a restart (its real reply was not kept). */
const RESULT_NOT_KEPT = new TextEncoder().encode('the call was applied before this replica restarted; its result was not kept');

export class CallStateMachine implements StateMachine<Uint8Array> {
  cache: RetryCache;
  /** Decisions taken in applySerial for entries not yet through apply(), by index. */
  private readonly decided = new Map<number, Decision>();
  /** Calls decided fresh but not yet cached (same-batch duplicates point at them). */
  private readonly inBatch = new Set<string>();

  constructor(
    readonly user: StateMachine<Uint8Array>,
    readonly expiryMs: number,
  ) {
    this.cache = new RetryCache(expiryMs);
  }

  startTransaction(data: Uint8Array): Uint8Array | void {
    return this.user.startTransaction?.(data);
  }

  preAppend(entry: CommittedEntry): void {
    if (!this.user.preAppend) return;
    const call = decodeCall(entry.data);
    this.user.preAppend(call ? { ...entry, data: call.data } : entry);
  }

  applySerial(entry: CommittedEntry): void {
    const call = decodeCall(entry.data);
    let duplicate = false;
    if (call) {
      const key = `${call.clientId}#${call.callId}`;
      duplicate = this.cache.get(call.clientId, call.callId) !== undefined || this.inBatch.has(key);
      if (!duplicate) this.inBatch.add(key);
    }
    this.decided.set(entry.index, { call, duplicate });
    if (!duplicate) this.user.applySerial?.(call ? { ...entry, data: call.data } : entry);
  }

  apply(entries: readonly CommittedEntry[]): Uint8Array[] | Promise<Uint8Array[]> {
    const fresh: CommittedEntry[] = [];
    const decisions: Decision[] = [];
    for (const e of entries) {
      const d = this.decided.get(e.index) ?? { call: decodeCall(e.data), duplicate: false };
      this.decided.delete(e.index);
      decisions.push(d);
      if (!d.duplicate) fresh.push(d.call ? { ...e, data: d.call.data } : e);
    }
    const finish = (results: Uint8Array[]): Uint8Array[] => this.finish(entries, decisions, results);
    let r: Uint8Array[] | Promise<Uint8Array[]>;
    try {
      r = fresh.length > 0 ? this.user.apply(fresh) : [];
    } catch (err) {
      this.clearBatch(decisions);
      throw err;
    }
    if (r instanceof Promise) {
      return r.then(finish, (err: unknown) => {
        this.clearBatch(decisions);
        throw err;
      });
    }
    // A synchronous state machine: replies and the cache change together, atomically.
    return finish(r);
  }

  private clearBatch(decisions: readonly Decision[]): void {
    for (const d of decisions) if (d.call) this.inBatch.delete(`${d.call.clientId}#${d.call.callId}`);
  }

  private finish(entries: readonly CommittedEntry[], decisions: readonly Decision[], results: Uint8Array[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    let k = 0;
    for (let i = 0; i < entries.length; i++) {
      const d = decisions[i]!;
      const e = entries[i]!;
      if (!d.duplicate) {
        const reply = results[k++] ?? new Uint8Array(0);
        if (d.call) {
          this.inBatch.delete(`${d.call.clientId}#${d.call.callId}`);
          this.cache.put(d.call.clientId, d.call.callId, { index: e.index, stampMs: d.call.stampMs, reply, failed: false });
        }
        out.push(reply);
      } else {
        out.push(this.cache.get(d.call!.clientId, d.call!.callId)?.reply ?? new Uint8Array(0));
      }
      if (d.call) {
        this.cache.release(d.call.clientId, d.call.firstUnreplied);
        this.cache.tick(d.call.stampMs);
      }
    }
    return out;
  }

  /**
   * Entries the user's state machine already holds after a restart: their calls are remembered
   * (so a retry is never applied twice), but their replies were not kept, so a retry of one is
   * answered RESULT_UNAVAILABLE rather than with a reply.
   */
  replayed(entries: readonly CommittedEntry[]): void {
    /** What the user's state machine applied: unwrapped, duplicates left out. */
    const held: CommittedEntry[] = [];
    for (const e of entries) {
      const call = decodeCall(e.data);
      if (!call) {
        held.push(e);
        continue;
      }
      if (!this.cache.get(call.clientId, call.callId)) {
        this.cache.put(call.clientId, call.callId, { index: e.index, stampMs: call.stampMs, reply: RESULT_NOT_KEPT, failed: true });
        held.push({ ...e, data: call.data });
      }
      this.cache.release(call.clientId, call.firstUnreplied);
      this.cache.tick(call.stampMs);
    }
    if (held.length > 0) this.user.replayed?.(held);
  }

  query(request: Uint8Array): Promise<Uint8Array> | Uint8Array {
    if (!this.user.query) throw new Error('the state machine does not answer queries');
    return this.user.query(request);
  }

  async saveSnapshot(): Promise<SnapshotImage> {
    // Capture the cache first and synchronously with the user's image when that is synchronous.
    const cache = this.cache.serialize();
    const image = await this.user.saveSnapshot();
    const out = new Uint8Array(4 + cache.byteLength + image.data.byteLength);
    new DataView(out.buffer).setUint32(0, cache.byteLength);
    out.set(cache, 4);
    out.set(image.data, 4 + cache.byteLength);
    return { index: image.index, data: out };
  }

  /** A snapshot image of `userImage` with an empty retry cache (a group that starts from a snapshot). */
  static imageWithEmptyCache(userImage: Uint8Array, expiryMs: number): Uint8Array {
    const cache = new RetryCache(expiryMs).serialize();
    const out = new Uint8Array(4 + cache.byteLength + userImage.byteLength);
    new DataView(out.buffer).setUint32(0, cache.byteLength);
    out.set(cache, 4);
    out.set(userImage, 4 + cache.byteLength);
    return out;
  }

  async loadSnapshot(image: SnapshotImage): Promise<void> {
    const dv = new DataView(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    const len = dv.getUint32(0);
    this.cache = RetryCache.deserialize(image.data.subarray(4, 4 + len), this.expiryMs);
    this.decided.clear();
    this.inBatch.clear();
    await this.user.loadSnapshot({ index: image.index, data: image.data.subarray(4 + len) });
  }

  lastAppliedIndex(): number {
    return this.user.lastAppliedIndex?.() ?? 0;
  }

  onLeaderStart(term: number): void {
    this.user.onLeaderStart?.(term);
  }
  onLeaderStop(term: number): void {
    this.user.onLeaderStop?.(term);
  }
  onStartFollowing(leader: NodeId, term: number): void {
    this.user.onStartFollowing?.(leader, term);
  }
  onStopFollowing(leader: NodeId, term: number): void {
    this.user.onStopFollowing?.(leader, term);
  }
  onConfigurationCommitted(conf: ConfState, index: number): void {
    this.user.onConfigurationCommitted?.(conf, index);
  }
  onError(err: Error): void {
    this.user.onError?.(err);
  }
}
