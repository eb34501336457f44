// The client protocol carried in transport request/response frames.
//
// request  = [u8 op][u32 headerLength][header: UTF-8 JSON][body: raw bytes]
// response = [u8 status (0 ok, 1 error)][u32 headerLength][header JSON][body bytes]
// Bodies carry application bytes untouched (entry data, query and results); headers carry the
// small typed fields. An error header is {code, message, leaderId?, leaderAddress?}.

export enum Op {
  Apply = 1,
  Query = 2,
  Status = 3,
  Admin = 4,
}

export type Consistency = 'linearizable' | 'lease' | 'stale' | 'local';

export interface ApplyHeader {
  expectedTerm?: number;
  clientId?: string;
  callId?: number;
}

export interface QueryHeader {
  consistency?: Consistency;
  /** For 'stale': the replica must have applied at least this index. */
  minIndex?: number;
}

export type AdminAction =
  | { action: 'addVoter' | 'addLearner' | 'promote' | 'removeNode'; node: string; address?: string }
  | { action: 'transferLeader'; node: string }
  | { action: 'snapshot' }
  | { action: 'changePeers'; voters: string[]; learners?: string[] };

export interface ErrorHeader {
  code: string;
  message: string;
  leaderId?: string;
  leaderAddress?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeMessage(tag: number, header: unknown, body: Uint8Array = EMPTY): Uint8Array {
  const h = enc.encode(JSON.stringify(header ?? {}));
  const out = new Uint8Array(5 + h.byteLength + body.byteLength);
  const dv = new DataView(out.buffer);
  out[0] = tag;
  dv.setUint32(1, h.byteLength);
  out.set(h, 5);
  out.set(body, 5 + h.byteLength);
  return out;
}

export function decodeMessage<H>(buf: Uint8Array): { tag: number; header: H; body: Uint8Array } {
  if (buf.byteLength < 5) throw new ProtocolError('message shorter than its 5-byte prefix');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = dv.getUint32(1);
  if (5 + hlen > buf.byteLength) throw new ProtocolError(`header length ${hlen} beyond the message (${buf.byteLength} bytes)`);
  let header: H;
  try {
    header = JSON.parse(dec.decode(buf.subarray(5, 5 + hlen))) as H;
  } catch {
    throw new ProtocolError('header is not valid JSON');
  }
  return { tag: buf[0]!, header, body: buf.subarray(5 + hlen) };
}

export class ProtocolError extends Error {
  readonly code = 'INVALID_ARGUMENT';
  constructor(message: string) {
    super(`bad request: ${message}`);
  }
}

const EMPTY = new Uint8Array(0);
