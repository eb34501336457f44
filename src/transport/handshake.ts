// The handshake: the dialing side's first frame (HELLO) says who it is, which cluster it
// belongs to, which node it believes it dialed, and its incarnation (random per process start,
// so a restarted peer is told apart from a stale connection of the same peer). The accepting
// side answers HELLO_ACK with the same fields about itself, or an ERROR frame and a close.
//
// Payload, version 1: u8 version, str16 nodeId, str16 cluster, str16 peer, str16 incarnation.
// In HELLO `peer` is the node the dialer expects at the address ('' if it does not know); in
// HELLO_ACK it echoes the dialer's id.

import { randomBytes } from 'node:crypto';
import { ByteReader, ByteWriter } from './binary.js';
import { TransportError } from './errors.js';

export const HANDSHAKE_VERSION = 1;
/** Frames accepted before the handshake completes are capped at this size. */
export const HANDSHAKE_MAX_FRAME = 64 * 1024;

export interface Hello {
  readonly nodeId: string;
  readonly cluster: string;
  readonly peer: string;
  readonly incarnation: string;
}

export function newIncarnation(): string {
  return randomBytes(8).toString('hex');
}

export function encodeHello(h: Hello): Uint8Array {
  const w = new ByteWriter(64);
  w.ensure(1);
  w.u8(HANDSHAKE_VERSION);
  w.str16(h.nodeId, 'node id');
  w.str16(h.cluster, 'cluster name');
  w.str16(h.peer, 'peer id');
  w.str16(h.incarnation, 'incarnation');
  return w.view();
}

export function decodeHello(payload: Uint8Array): Hello {
  const r = new ByteReader(payload);
  const v = r.u8();
  if (v !== HANDSHAKE_VERSION) throw new TransportError('BAD_VERSION', `unknown handshake version ${v}`);
  const h: Hello = { nodeId: r.str16(), cluster: r.str16(), peer: r.str16(), incarnation: r.str16() };
  if (r.remaining !== 0) throw new TransportError('BAD_FRAME', 'trailing bytes in handshake');
  if (h.nodeId === '') throw new TransportError('HANDSHAKE_FAILED', 'handshake without a node id');
  return h;
}
