// Framing of the byte stream between two transports, and a streaming frame decoder.
//
// Frame layout, version 1 (big-endian):
//
//   u32  length       number of bytes after this field (version .. end of payload)
//   u8   version      FRAME_VERSION (1)
//   u8   kind         FrameKind
//   u16  group length byte length of the group id (0 for frames that belong to no group)
//   ...  group id     UTF-8
//   u32  request id   0 for one-way frames (RAFT, HELLO, HELLO_ACK, PING, connection-level ERROR)
//   ...  payload      kind-specific (raft-codec.ts for RAFT, opaque for REQUEST/RESPONSE,
//                     encodeErrorPayload for ERROR, handshake.ts for HELLO/HELLO_ACK)
//
// Group ids are strings (the same ids RaftNode registers with), carried in every frame with a
// u16 length prefix: one connection multiplexes every group, and a receiver can name an unknown
// group in its error without any id-assignment protocol. Raft group ids are short, so the cost
// is a few bytes per frame (and the ASCII fast path in binary.ts).

import { ByteReader, ByteWriter, decodeUtf8, utf8Bound } from './binary.js';
import { TransportError, isTransportErrorCode } from './errors.js';
import type { TransportErrorCode } from './errors.js';
import { writeMessage } from './raft-codec.js';
import type { Message } from '../raft/core/types.js';

export const FRAME_VERSION = 1;
export const DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024;
/** Bytes of the length field. */
export const LENGTH_BYTES = 4;
/** Smallest valid value of the length field: version, kind, group length, request id. */
export const MIN_FRAME_BODY = 1 + 1 + 2 + 4;
/** Bytes needed to validate a frame's header early: length, version, kind. */
const PEEK_BYTES = 6;

export enum FrameKind {
  /** One-way Raft message for a group (payload: raft-codec). */
  Raft = 1,
  /** Request expecting a RESPONSE or ERROR with the same request id. */
  Request = 2,
  Response = 3,
  /** An error: for a request (request id set), a raft frame (group set) or the connection. */
  Error = 4,
  /** First frame of the dialing side: who it is (handshake.ts). */
  Hello = 5,
  /** The accepting side's answer to HELLO. */
  HelloAck = 6,
  /** Keep-alive on an idle connection (no payload, no answer): proves the peer is alive. */
  Ping = 7,
}

const MAX_KIND = FrameKind.Ping;

export interface Frame {
  readonly kind: FrameKind;
  readonly groupId: string;
  readonly requestId: number;
  /** A view into the received bytes (zero-copy when the frame arrived in one chunk). */
  readonly payload: Uint8Array;
}

/** Size of a frame header (length field included) for a group id, upper bound. */
export function frameHeaderBound(groupId: string): number {
  return LENGTH_BYTES + MIN_FRAME_BODY + utf8Bound(groupId);
}

/**
 * Starts a frame in `w`: writes the header with a placeholder length and returns the frame's
 * start position, to pass to endFrame once the payload is written.
 */
export function beginFrame(w: ByteWriter, kind: FrameKind, groupId: string, requestId: number): number {
  const start = w.pos;
  w.ensure(frameHeaderBound(groupId));
  w.u32(0);
  w.u8(FRAME_VERSION);
  w.u8(kind);
  try {
    w.str16(groupId, 'group id');
  } catch (e) {
    w.pos = start;
    throw e;
  }
  w.u32(requestId);
  return start;
}

/**
 * Patches the length of the frame started at `start`. A frame over `maxFrameSize` is removed
 * from `w` and FRAME_TOO_LARGE is thrown.
 */
export function endFrame(w: ByteWriter, start: number, maxFrameSize: number): number {
  const len = w.pos - start - LENGTH_BYTES;
  if (len > maxFrameSize) {
    w.pos = start;
    throw new TransportError('FRAME_TOO_LARGE', `frame of ${len} bytes exceeds the maximum of ${maxFrameSize}`);
  }
  w.u32At(start, len);
  return w.pos - start;
}

/** Appends one frame with an opaque payload to `w`. */
export function writeFrame(
  w: ByteWriter,
  kind: FrameKind,
  groupId: string,
  requestId: number,
  payload: Uint8Array,
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
): number {
  const start = beginFrame(w, kind, groupId, requestId);
  w.raw(payload);
  return endFrame(w, start, maxFrameSize);
}

/**
 * Appends a RAFT frame carrying `msg` for `groupId` to `w`, encoding the message in place (no
 * intermediate buffer). On INVALID_MESSAGE or FRAME_TOO_LARGE nothing stays behind in `w`.
 */
export function writeRaftFrame(w: ByteWriter, groupId: string, msg: Message, maxFrameSize = DEFAULT_MAX_FRAME_SIZE): number {
  const start = beginFrame(w, FrameKind.Raft, groupId, 0);
  try {
    writeMessage(w, msg);
  } catch (e) {
    w.pos = start;
    throw e;
  }
  return endFrame(w, start, maxFrameSize);
}

/** One frame in a fresh buffer. */
export function encodeFrame(
  kind: FrameKind,
  groupId: string,
  requestId: number,
  payload: Uint8Array,
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
): Buffer {
  const w = new ByteWriter(frameHeaderBound(groupId) + payload.length);
  writeFrame(w, kind, groupId, requestId, payload, maxFrameSize);
  return w.view();
}

/** ERROR payload: str16 code, str32 message. */
export function encodeErrorPayload(code: TransportErrorCode, message: string): Uint8Array {
  const w = new ByteWriter(64 + utf8Bound(message));
  w.str16(code, 'error code');
  w.str32(message);
  return w.view();
}

/** The error carried by an ERROR frame (remote = true). Unknown codes become REMOTE_ERROR. */
export function decodeErrorPayload(payload: Uint8Array): TransportError {
  const r = new ByteReader(payload);
  const code = r.str16();
  const message = r.str32();
  if (!isTransportErrorCode(code)) return new TransportError('REMOTE_ERROR', `${code}: ${message}`, true);
  return new TransportError(code, message, true);
}

export function encodeErrorFrame(
  code: TransportErrorCode,
  message: string,
  groupId = '',
  requestId = 0,
): Buffer {
  return encodeFrame(FrameKind.Error, groupId, requestId, encodeErrorPayload(code, message));
}

export interface FrameDecoderOptions {
  /** Largest accepted value of a frame's length field. Default 64 MiB. */
  maxFrameSize?: number;
}

/**
 * Streaming decoder: push() the chunks of a byte stream in order, get every complete frame
 * through `onFrame`, in order. Handles frames split across chunks (at any byte) and many frames
 * per chunk. A frame contained in one chunk is passed as a view of that chunk; a frame split
 * across chunks is copied once into its own buffer.
 *
 * Bad input throws a TransportError from push(): FRAME_TOO_LARGE (checked as soon as the length
 * field is complete, before the body is buffered), BAD_VERSION, or BAD_FRAME (length too small,
 * unknown kind, group id overflowing the frame). After an error the decoder is unusable: the
 * stream position is lost, so the connection must be closed. `onFrame` should not throw; if it
 * does, the error propagates out of push() and the decoder is unusable too.
 */
export class FrameDecoder {
  maxFrameSize: number;
  private readonly onFrame: (f: Frame) => void;
  /** Chunks of an incomplete frame (views; never mutated). */
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Total bytes (length field included) of the frame being assembled, or -1 if not known. */
  private need = -1;
  private failed: TransportError | null = null;

  constructor(onFrame: (f: Frame) => void, opts: FrameDecoderOptions = {}) {
    this.onFrame = onFrame;
    this.maxFrameSize = opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** Bytes received but not yet part of a delivered frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    try {
      this.pushInner(chunk);
    } catch (e) {
      // Either bad input or a throwing onFrame: the stream position is lost either way.
      this.failed = e instanceof TransportError ? e : new TransportError('BAD_FRAME', `frame handler failed: ${String(e)}`);
      this.chunks = [];
      this.buffered = 0;
      throw e;
    }
  }

  /** The stream ended: throws BAD_FRAME if a frame was cut short. */
  end(): void {
    if (this.failed) return;
    if (this.buffered > 0) {
      const n = this.buffered;
      this.chunks = [];
      this.buffered = 0;
      this.failed = new TransportError('BAD_FRAME', `stream ended inside a frame (${n} bytes of a truncated frame)`);
      throw this.failed;
    }
  }

  private pushInner(chunk: Uint8Array): void {
    if (this.buffered === 0) {
      this.scan(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.need < 0) {
      if (this.buffered < PEEK_BYTES) return;
      this.need = this.checkHeader(this.peekHeader(), 0);
    }
    if (this.buffered < this.need) return;
    // The pending frame is complete: gather exactly its bytes, then scan what is left of the
    // last chunk in place.
    const need = this.need;
    const frame = Buffer.allocUnsafe(need);
    let filled = 0;
    let rest: Uint8Array | null = null;
    for (const c of this.chunks) {
      const take = Math.min(c.length, need - filled);
      frame.set(take === c.length ? c : c.subarray(0, take), filled);
      filled += take;
      if (take < c.length) rest = c.subarray(take);
    }
    this.chunks = [];
    this.buffered = 0;
    this.need = -1;
    this.deliver(frame, 0, need);
    if (rest) this.scan(rest);
  }

  /** Decodes every complete frame in a contiguous chunk; keeps the incomplete tail. */
  private scan(b: Uint8Array): void {
    let off = 0;
    const n = b.length;
    while (n - off >= LENGTH_BYTES) {
      const avail = n - off;
      const total = this.checkHeader(b, off, avail);
      if (avail < total) {
        if (avail >= PEEK_BYTES) this.need = total;
        break;
      }
      off += total;
      this.deliver(b, off - total, total);
    }
    if (off < n) {
      this.chunks = [off === 0 ? b : b.subarray(off)];
      this.buffered = n - off;
    }
  }

  /**
   * Validates the header at b[off..]: the length field always, version and kind when `avail`
   * covers them. Returns the frame's total size (length field included).
   */
  private checkHeader(b: Uint8Array, off: number, avail = PEEK_BYTES): number {
    const len = b[off]! * 0x1000000 + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
    if (len > this.maxFrameSize) {
      throw new TransportError('FRAME_TOO_LARGE', `frame of ${len} bytes exceeds the maximum of ${this.maxFrameSize}`);
    }
    if (len < MIN_FRAME_BODY) throw new TransportError('BAD_FRAME', `frame length ${len} is below the minimum of ${MIN_FRAME_BODY}`);
    if (avail >= PEEK_BYTES) {
      const version = b[off + 4]!;
      if (version !== FRAME_VERSION) throw new TransportError('BAD_VERSION', `unknown frame version ${version}`);
      const kind = b[off + 5]!;
      if (kind < 1 || kind > MAX_KIND) throw new TransportError('BAD_FRAME', `unknown frame kind ${kind}`);
    }
    return LENGTH_BYTES + len;
  }

  private peekHeader(): Uint8Array {
    const out = new Uint8Array(PEEK_BYTES);
    let filled = 0;
    for (const c of this.chunks) {
      const take = Math.min(c.length, PEEK_BYTES - filled);
      out.set(c.subarray(0, take), filled);
      filled += take;
      if (filled === PEEK_BYTES) break;
    }
    return out;
  }

  private deliver(b: Uint8Array, off: number, total: number): void {
    const end = off + total;
    const kind = b[off + 5]! as FrameKind;
    const glen = (b[off + 6]! << 8) | b[off + 7]!;
    const gstart = off + LENGTH_BYTES + 4;
    if (gstart + glen + 4 > end) throw new TransportError('BAD_FRAME', `group id of ${glen} bytes overflows the frame`);
    const groupId = decodeUtf8(b, gstart, gstart + glen);
    const r = gstart + glen;
    const requestId = b[r]! * 0x1000000 + ((b[r + 1]! << 16) | (b[r + 2]! << 8) | b[r + 3]!);
    const payload = new Uint8Array(b.buffer, b.byteOffset + r + 4, end - r - 4);
    this.onFrame({ kind, groupId, requestId, payload });
  }
}
