// One request handler per transport, shared by the services of a process: the client protocol
// (RaftServer) and the Raft groups' own services (snapshot chunks). The first byte of a request
// names its service.

import type { NodeId } from '../core/types.js';

export type ServiceHandler = (groupId: string, payload: Uint8Array, peer: NodeId) => Promise<Uint8Array> | Uint8Array;

interface RequestTransport {
  onRequest(handler: ((groupId: string, payload: Uint8Array, peer: NodeId) => Promise<Uint8Array> | Uint8Array) | undefined): void;
}

/** Service tags. Client protocol ops use 1..0x7f; internal services 0x80 and up. */
export const SNAPSHOT_CHUNK = 0x80;

const routers = new WeakMap<object, RpcRouter>();

export class RpcRouter {
  private readonly services = new Map<number, ServiceHandler>();

  private constructor(transport: RequestTransport) {
    transport.onRequest((groupId, payload, peer) => {
      const h = this.services.get(payload[0] ?? -1);
      if (!h) throw new Error(`no service for request tag ${payload[0]}`);
      return h(groupId, payload, peer);
    });
  }

  /** The router of a transport (installed on first use). */
  static of(transport: RequestTransport): RpcRouter {
    let r = routers.get(transport);
    if (!r) {
      r = new RpcRouter(transport);
      routers.set(transport, r);
    }
    return r;
  }

  register(tags: readonly number[], handler: ServiceHandler): void {
    for (const t of tags) this.services.set(t, handler);
  }

  unregister(tags: readonly number[], handler: ServiceHandler): void {
    for (const t of tags) if (this.services.get(t) === handler) this.services.delete(t);
  }
}

// ---------------------------------------------------------------- envelope
// request/response body = [u8 tag][u32 headerLength][header: UTF-8 JSON][body bytes]

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeEnvelope(tag: number, header: unknown, body: Uint8Array = EMPTY): Uint8Array {
  const h = enc.encode(JSON.stringify(header ?? {}));
  const out = new Uint8Array(5 + h.byteLength + body.byteLength);
  out[0] = tag;
  new DataView(out.buffer).setUint32(1, h.byteLength);
  out.set(h, 5);
  out.set(body, 5 + h.byteLength);
  return out;
}

export class EnvelopeError extends Error {
  readonly code = 'INVALID_ARGUMENT';
  constructor(message: string) {
    super(`bad request: ${message}`);
  }
}

export function decodeEnvelope<H>(buf: Uint8Array): { tag: number; header: H; body: Uint8Array } {
  if (buf.byteLength < 5) throw new EnvelopeError('message shorter than its 5-byte prefix');
  const hlen = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(1);
  if (5 + hlen > buf.byteLength) throw new EnvelopeError(`header length ${hlen} beyond the message (${buf.byteLength} bytes)`);
  let header: H;
  try {
    header = JSON.parse(dec.decode(buf.subarray(5, 5 + hlen))) as H;
  } catch {
    throw new EnvelopeError('header is not valid JSON');
  }
  return { tag: buf[0]!, header, body: buf.subarray(5 + hlen) };
}

const EMPTY = new Uint8Array(0);
