// A client call as stored in a log entry: who sent it (clientId, callId), the lowest call id the
// client still waits for, the leader's time when it was proposed, and the state machine's bytes.
//
//   [u8 0xC1][u8 version 1][u16 clientIdLength][clientId UTF-8][f64 callId][f64 firstUnreplied]
//   [f64 stampMs][data...]

export const CALL_MAGIC = 0xc1;
const HEADER = 2 + 2 + 24;

export interface Call {
  readonly clientId: string;
  readonly callId: number;
  readonly firstUnreplied: number;
  readonly stampMs: number;
  readonly data: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCall(c: Call): Uint8Array {
  const id = enc.encode(c.clientId);
  const out = new Uint8Array(HEADER + id.byteLength + c.data.byteLength);
  const dv = new DataView(out.buffer);
  out[0] = CALL_MAGIC;
  out[1] = 1;
  dv.setUint16(2, id.byteLength);
  out.set(id, 4);
  let o = 4 + id.byteLength;
  dv.setFloat64(o, c.callId);
  dv.setFloat64(o + 8, c.firstUnreplied);
  dv.setFloat64(o + 16, c.stampMs);
  o += 24;
  out.set(c.data, o);
  return out;
}

/** Decodes a call envelope; undefined if the entry is not one (written by another path). */
export function decodeCall(b: Uint8Array): Call | undefined {
  if (b.byteLength < HEADER || b[0] !== CALL_MAGIC || b[1] !== 1) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const idLen = dv.getUint16(2);
  if (b.byteLength < HEADER + idLen) return undefined;
  const clientId = dec.decode(b.subarray(4, 4 + idLen));
  const o = 4 + idLen;
  return {
    clientId,
    callId: dv.getFloat64(o),
    firstUnreplied: dv.getFloat64(o + 8),
    stampMs: dv.getFloat64(o + 16),
    data: b.subarray(o + 24),
  };
}
