// Versioned binary codec for the Raft `Message` (src/raft/core/types.ts). Hot path: every
// AppendEntries goes through it, so it writes into a caller-supplied ByteWriter in one pass
// (one capacity check per message) and decodes entry payloads as zero-copy views.
//
// Layout, version 1 (big-endian; "u64" = non-negative safe integer as a real u64):
//
//   u8    codec version (1)
//   u8    message type code (TYPE_CODES below; stable, append-only)
//   u16   flags: which optional fields follow, and the values of the optional booleans
//   str16 from                       (u16 byte length + UTF-8)
//   str16 to
//   u64   term
//   u64   logTerm                    if F_LOG_TERM
//   u64   index                      if F_INDEX
//   u64   commit                     if F_COMMIT
//   u64   rejectHint                 if F_REJECT_HINT
//   u64   rejectHintTerm             if F_REJECT_HINT_TERM
//   str32 context                    if F_CONTEXT (u32 byte length + UTF-8)
//   str16 transferee                 if F_TRANSFEREE
//   entries                          if F_ENTRIES:
//     u32 count, then per entry: u64 term, u64 index, u8 type, u32 length, data
//   snapshot                         if F_SNAPSHOT:
//     u64 index, u64 term,
//     voters, votersOutgoing, learners, learnersNext: each u32 count + str16 per node id,
//     u8 autoLeave (0/1), u32 data length, data
//
// Optional fields that are absent on the sender are absent after decoding (not zero), so
// decode(encode(m)) is deep-equal to m. Decoded entry data and snapshot data are views into the
// received bytes (no copy): they keep the receive buffer alive for as long as they are held.

import { ByteReader, ByteWriter, utf8Bound } from './binary.js';
import { TransportError } from './errors.js';
import { EntryType, MessageType } from '../raft/core/types.js';
import type { ConfState, Entry, Message, NodeId, Snapshot } from '../raft/core/types.js';

export const CODEC_VERSION = 1;

/** Wire codes of message types. Append only: never renumber. */
const TYPE_CODES: readonly MessageType[] = [
  MessageType.Hup, // 0
  MessageType.CheckQuorum,
  MessageType.Prop,
  MessageType.App,
  MessageType.AppResp,
  MessageType.Vote, // 5
  MessageType.VoteResp,
  MessageType.PreVote,
  MessageType.PreVoteResp,
  MessageType.Snap,
  MessageType.Heartbeat, // 10
  MessageType.HeartbeatResp,
  MessageType.Unreachable,
  MessageType.SnapStatus,
  MessageType.TransferLeader,
  MessageType.TimeoutNow, // 15
  MessageType.ReadIndex,
  MessageType.ReadIndexResp,
];

const CODE_OF: ReadonlyMap<string, number> = new Map(TYPE_CODES.map((t, i) => [t, i]));

const F_LOG_TERM = 1 << 0;
const F_INDEX = 1 << 1;
const F_COMMIT = 1 << 2;
const F_REJECT_HINT = 1 << 3;
const F_REJECT_HINT_TERM = 1 << 4;
const F_CONTEXT = 1 << 5;
const F_TRANSFEREE = 1 << 6;
const F_ENTRIES = 1 << 7;
const F_SNAPSHOT = 1 << 8;
const F_HAS_REJECT = 1 << 9;
const F_REJECT = 1 << 10;
const F_HAS_TRANSFER = 1 << 11;
const F_TRANSFER = 1 << 12;
const F_HAS_LEASE = 1 << 13;
const F_LEASE = 1 << 14;
const F_KNOWN = (1 << 15) - 1;

/** Fixed bytes of one entry besides its data. */
const ENTRY_OVERHEAD = 8 + 8 + 1 + 4;

/** An upper bound of the encoded size of `msg` (exact for everything but strings). */
export function messageSizeBound(msg: Message): number {
  let n = 1 + 1 + 2 + 2 + utf8Bound(msg.from) + 2 + utf8Bound(msg.to) + 8 + 5 * 8;
  if (msg.context !== undefined) n += 4 + utf8Bound(msg.context);
  if (msg.transferee !== undefined) n += 2 + utf8Bound(msg.transferee);
  const entries = msg.entries;
  if (entries !== undefined) {
    n += 4 + entries.length * ENTRY_OVERHEAD;
    for (let i = 0; i < entries.length; i++) n += entries[i]!.data.length;
  }
  const snap = msg.snapshot;
  if (snap !== undefined) {
    const cs = snap.meta.confState;
    n += 8 + 8 + 1 + 4 + snap.data.length;
    n += listBound(cs.voters) + listBound(cs.votersOutgoing) + listBound(cs.learners) + listBound(cs.learnersNext);
  }
  return n;
}

function listBound(ids: readonly NodeId[]): number {
  let n = 4;
  for (let i = 0; i < ids.length; i++) n += 2 + utf8Bound(ids[i]!);
  return n;
}

/**
 * Appends the encoding of `msg` to `w`. On an invalid message it throws INVALID_MESSAGE and
 * leaves `w.pos` where it was (nothing partial stays behind).
 */
export function writeMessage(w: ByteWriter, msg: Message): void {
  const start = w.pos;
  try {
    writeUnchecked(w, msg);
  } catch (e) {
    w.pos = start;
    throw e;
  }
}

function writeUnchecked(w: ByteWriter, msg: Message): void {
  const code = CODE_OF.get(msg.type);
  if (code === undefined) throw new TransportError('INVALID_MESSAGE', `unknown message type ${String(msg.type)}`);
  w.ensure(messageSizeBound(msg));
  let flags = 0;
  if (msg.logTerm !== undefined) flags |= F_LOG_TERM;
  if (msg.index !== undefined) flags |= F_INDEX;
  if (msg.commit !== undefined) flags |= F_COMMIT;
  if (msg.rejectHint !== undefined) flags |= F_REJECT_HINT;
  if (msg.rejectHintTerm !== undefined) flags |= F_REJECT_HINT_TERM;
  if (msg.context !== undefined) flags |= F_CONTEXT;
  if (msg.transferee !== undefined) flags |= F_TRANSFEREE;
  if (msg.entries !== undefined) flags |= F_ENTRIES;
  if (msg.snapshot !== undefined) flags |= F_SNAPSHOT;
  if (msg.reject !== undefined) flags |= msg.reject ? F_HAS_REJECT | F_REJECT : F_HAS_REJECT;
  if (msg.transfer !== undefined) flags |= msg.transfer ? F_HAS_TRANSFER | F_TRANSFER : F_HAS_TRANSFER;
  if (msg.lease !== undefined) flags |= msg.lease ? F_HAS_LEASE | F_LEASE : F_HAS_LEASE;

  w.u8(CODEC_VERSION);
  w.u8(code);
  w.u16(flags);
  w.str16(msg.from, 'from');
  w.str16(msg.to, 'to');
  w.u64(msg.term, 'term');
  if (flags & F_LOG_TERM) w.u64(msg.logTerm!, 'logTerm');
  if (flags & F_INDEX) w.u64(msg.index!, 'index');
  if (flags & F_COMMIT) w.u64(msg.commit!, 'commit');
  if (flags & F_REJECT_HINT) w.u64(msg.rejectHint!, 'rejectHint');
  if (flags & F_REJECT_HINT_TERM) w.u64(msg.rejectHintTerm!, 'rejectHintTerm');
  if (flags & F_CONTEXT) w.str32(msg.context!);
  if (flags & F_TRANSFEREE) w.str16(msg.transferee!, 'transferee');
  if (flags & F_ENTRIES) {
    const entries = msg.entries!;
    w.u32(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      w.u64(e.term, 'entry.term');
      w.u64(e.index, 'entry.index');
      if (e.type !== EntryType.Normal && e.type !== EntryType.ConfChange) {
        throw new TransportError('INVALID_MESSAGE', `unknown entry type ${String(e.type)}`);
      }
      w.u8(e.type);
      const data = e.data;
      w.u32(data.length);
      w.buf.set(data, w.pos);
      w.pos += data.length;
    }
  }
  if (flags & F_SNAPSHOT) {
    const snap = msg.snapshot!;
    const meta = snap.meta;
    const cs = meta.confState;
    w.u64(meta.index, 'snapshot.index');
    w.u64(meta.term, 'snapshot.term');
    writeIds(w, cs.voters);
    writeIds(w, cs.votersOutgoing);
    writeIds(w, cs.learners);
    writeIds(w, cs.learnersNext);
    w.u8(cs.autoLeave ? 1 : 0);
    w.u32(snap.data.length);
    w.buf.set(snap.data, w.pos);
    w.pos += snap.data.length;
  }
}

function writeIds(w: ByteWriter, ids: readonly NodeId[]): void {
  w.u32(ids.length);
  for (let i = 0; i < ids.length; i++) w.str16(ids[i]!, 'confState node id');
}

/** Encodes one message into a fresh buffer. */
export function encodeMessage(msg: Message): Uint8Array {
  const w = new ByteWriter(messageSizeBound(msg));
  writeUnchecked(w, msg);
  // A plain Uint8Array (Buffer#slice would share memory, Uint8Array#slice copies).
  return new Uint8Array(w.buf.buffer, w.buf.byteOffset, w.pos);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Decodes one message from `bytes[start, end)`. Malformed input throws BAD_FRAME, an unknown
 * codec version BAD_VERSION. Entry and snapshot data are views into `bytes`.
 */
export function decodeMessage(bytes: Uint8Array, start = 0, end = bytes.length): Message {
  const r = new ByteReader(bytes, start, end);
  const version = r.u8();
  if (version !== CODEC_VERSION) throw new TransportError('BAD_VERSION', `unknown raft codec version ${version}`);
  const code = r.u8();
  const type = TYPE_CODES[code];
  if (type === undefined) throw new TransportError('BAD_FRAME', `unknown message type code ${code}`);
  const flags = r.u16();
  if ((flags & ~F_KNOWN) !== 0) throw new TransportError('BAD_FRAME', `unknown message flags 0x${flags.toString(16)}`);
  const m: Mutable<Message> = { type, from: r.str16(), to: r.str16(), term: r.u64('term') };
  if (flags & F_LOG_TERM) m.logTerm = r.u64('logTerm');
  if (flags & F_INDEX) m.index = r.u64('index');
  if (flags & F_COMMIT) m.commit = r.u64('commit');
  if (flags & F_REJECT_HINT) m.rejectHint = r.u64('rejectHint');
  if (flags & F_REJECT_HINT_TERM) m.rejectHintTerm = r.u64('rejectHintTerm');
  if (flags & F_CONTEXT) m.context = r.str32();
  if (flags & F_TRANSFEREE) m.transferee = r.str16();
  if (flags & F_ENTRIES) m.entries = readEntries(r);
  if (flags & F_SNAPSHOT) m.snapshot = readSnapshot(r);
  if (flags & F_HAS_REJECT) m.reject = (flags & F_REJECT) !== 0;
  if (flags & F_HAS_TRANSFER) m.transfer = (flags & F_TRANSFER) !== 0;
  if (flags & F_HAS_LEASE) m.lease = (flags & F_LEASE) !== 0;
  if (r.pos !== r.end) throw new TransportError('BAD_FRAME', `${r.end - r.pos} trailing bytes after message`);
  return m;
}

function readEntries(r: ByteReader): Entry[] {
  const count = r.u32();
  if (count * ENTRY_OVERHEAD > r.remaining) {
    throw new TransportError('BAD_FRAME', `entry count ${count} does not fit in ${r.remaining} bytes`);
  }
  const out = new Array<Entry>(count);
  for (let i = 0; i < count; i++) {
    const term = r.u64('entry.term');
    const index = r.u64('entry.index');
    const type = r.u8();
    if (type !== EntryType.Normal && type !== EntryType.ConfChange) {
      throw new TransportError('BAD_FRAME', `unknown entry type ${type}`);
    }
    const data = r.bytes32();
    out[i] = { term, index, type, data };
  }
  return out;
}

function readIds(r: ByteReader): NodeId[] {
  const count = r.u32();
  if (count * 2 > r.remaining) throw new TransportError('BAD_FRAME', `id count ${count} does not fit`);
  const ids = new Array<NodeId>(count);
  for (let i = 0; i < count; i++) ids[i] = r.str16();
  return ids;
}

function readSnapshot(r: ByteReader): Snapshot {
  const index = r.u64('snapshot.index');
  const term = r.u64('snapshot.term');
  const voters = readIds(r);
  const votersOutgoing = readIds(r);
  const learners = readIds(r);
  const learnersNext = readIds(r);
  const al = r.u8();
  if (al > 1) throw new TransportError('BAD_FRAME', `bad autoLeave byte ${al}`);
  const confState: ConfState = { voters, votersOutgoing, learners, learnersNext, autoLeave: al === 1 };
  const data = r.bytes32();
  return { meta: { index, term, confState }, data };
}
