// InstallSnapshot over the network in chunks. The core hands the runtime a Snap message holding
// the whole snapshot; instead of one huge frame, the sender streams it as chunk requests and the
// receiver assembles it, then steps the Snap message into its core as if it had arrived whole.
//
// - Resume: the receiver keeps a partial transfer (keyed by leader, term and snapshot) across
//   dropped connections and answers every chunk with the offset it wants next; the sender
//   continues from there.
// - Throughput limit: the sender paces chunks to `bytesPerSecond`.

import type { Message, NodeId, Snapshot } from '../core/types.js';
import { MessageType } from '../core/types.js';
import { RpcRouter, SNAPSHOT_CHUNK, decodeEnvelope, encodeEnvelope } from './rpc-router.js';

export interface SnapshotTransferOptions {
  /** Bytes per chunk. Default 1 MiB. */
  chunkBytes?: number;
  /** Pace of sending, in bytes per second; 0 = unlimited. Default 0. */
  bytesPerSecond?: number;
  /** Time for one chunk's answer. Default 5,000 ms. */
  chunkTimeoutMs?: number;
  /** Consecutive failed chunks before giving up (the leader retries later). Default 8. */
  maxRetries?: number;
}

interface ChunkHeader {
  from: NodeId;
  term: number;
  index: number;
  snapTerm: number;
  /** Only in the first chunk (offset 0). */
  confState?: Snapshot['meta']['confState'];
  total: number;
  offset: number;
}

interface ChunkReply {
  next: number;
  done: boolean;
}

export interface RequestPort {
  request(peer: NodeId, groupId: string, payload: Uint8Array, opts?: { timeoutMs?: number }): Promise<Uint8Array>;
  onRequest(handler: ((groupId: string, payload: Uint8Array, peer: NodeId) => Promise<Uint8Array> | Uint8Array) | undefined): void;
}

/** Streams the snapshot of `msg` to `msg.to`. Resolves true once the receiver has all of it. */
export async function sendSnapshot(t: RequestPort, groupId: string, msg: Message, o: SnapshotTransferOptions, stopped: () => boolean): Promise<boolean> {
  const snap = msg.snapshot!;
  const data = snap.data;
  const chunkBytes = o.chunkBytes ?? 1024 * 1024;
  const rate = o.bytesPerSecond ?? 0;
  const base = { from: msg.from, term: msg.term, index: snap.meta.index, snapTerm: snap.meta.term, total: data.byteLength };
  /** Earliest time the next chunk may leave (pacing: never faster than `rate` per chunk). */
  let nextAt = 0;
  let offset = 0;
  let failures = 0;
  while (!stopped()) {
    const chunk = data.subarray(offset, Math.min(data.byteLength, offset + chunkBytes));
    const wait = nextAt - Date.now();
    if (wait > 0) await sleep(wait);
    const header: ChunkHeader = offset === 0 ? { ...base, offset, confState: snap.meta.confState } : { ...base, offset };
    try {
      const raw = await t.request(msg.to, groupId, encodeEnvelope(SNAPSHOT_CHUNK, header, chunk), { timeoutMs: o.chunkTimeoutMs ?? 5000 });
      const reply = decodeEnvelope<ChunkReply>(raw).header;
      failures = 0;
      if (reply.done) return true;
      if (rate > 0) nextAt = Date.now() + (chunk.byteLength / rate) * 1000;
      offset = reply.next;
    } catch {
      if (++failures > (o.maxRetries ?? 8)) return false;
      await sleep(Math.min(2000, 50 * 2 ** failures));
    }
  }
  return false;
}

interface Partial {
  readonly key: string;
  readonly header: ChunkHeader;
  readonly chunks: Uint8Array[];
  received: number;
}

/** The receiving side for the groups of one transport. */
export class SnapshotReceiver {
  private static readonly byTransport = new WeakMap<object, SnapshotReceiver>();
  private readonly groups = new Map<string, (m: Message) => void>();
  private readonly partial = new Map<string, Partial>();
  /** Per group, the last transfer completed: a retried chunk of it (its reply was lost) is done. */
  private readonly completed = new Map<string, string>();

  private constructor(router: RpcRouter, private readonly self: () => string) {
    router.register([SNAPSHOT_CHUNK], (groupId, payload) => this.onChunk(groupId, payload));
  }

  static of(t: RequestPort, selfId: string): SnapshotReceiver {
    let r = SnapshotReceiver.byTransport.get(t);
    if (!r) {
      r = new SnapshotReceiver(RpcRouter.of(t), () => selfId);
      SnapshotReceiver.byTransport.set(t, r);
    }
    return r;
  }

  /** `deliver` steps the assembled Snap message into the group's core. */
  register(groupId: string, deliver: (m: Message) => void): void {
    this.groups.set(groupId, deliver);
  }

  unregister(groupId: string): void {
    this.groups.delete(groupId);
    this.partial.delete(groupId);
    this.completed.delete(groupId);
  }

  private onChunk(groupId: string, payload: Uint8Array): Uint8Array {
    const deliver = this.groups.get(groupId);
    if (!deliver) throw new Error(`no raft group '${groupId}' here`);
    const { header: h, body } = decodeEnvelope<ChunkHeader>(payload);
    const key = `${h.from}/${h.term}/${h.index}/${h.snapTerm}/${h.total}`;
    if (this.completed.get(groupId) === key) return reply({ next: h.total, done: true });
    let p = this.partial.get(groupId);
    if (!p || p.key !== key) {
      if (h.offset !== 0 || !h.confState) return reply({ next: 0, done: false }); // start over
      p = { key, header: h, chunks: [], received: 0 };
      this.partial.set(groupId, p);
    }
    if (h.offset !== p.received) return reply({ next: p.received, done: false }); // resume point
    p.chunks.push(body.slice()); // copy: the frame buffer is reused
    p.received += body.byteLength;
    if (p.received < h.total) return reply({ next: p.received, done: false });
    this.partial.delete(groupId);
    this.completed.set(groupId, key);
    const data = new Uint8Array(h.total);
    let off = 0;
    for (const c of p.chunks) {
      data.set(c, off);
      off += c.byteLength;
    }
    deliver({
      type: MessageType.Snap,
      from: h.from,
      to: this.self(),
      term: h.term,
      snapshot: { meta: { index: h.index, term: h.snapTerm, confState: p.header.confState! }, data },
    });
    return reply({ next: h.total, done: true });
  }
}

function reply(r: ChunkReply): Uint8Array {
  return encodeEnvelope(0, r);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
