// Typed errors of the transport layer. Every error has a stable `code` callers switch on; the
// message is for people and may change. The same codes travel inside ERROR frames, so a code
// raised on the remote side arrives unchanged (with `remote` set) on this side.

export type TransportErrorCode =
  | 'FRAME_TOO_LARGE' // a frame's length exceeds the configured maximum
  | 'BAD_VERSION' // unknown frame or codec version
  | 'BAD_FRAME' // malformed bytes: bad length, unknown kind, truncated or garbled payload
  | 'UNKNOWN_GROUP' // no handler registered for the frame's group
  | 'TIMEOUT' // a request got no response in time (or a handshake did not complete)
  | 'CLOSED' // the transport (or the peer entry) was closed while the operation was pending
  | 'QUEUE_FULL' // the peer's outgoing queue is full (count or bytes): the message was dropped
  | 'UNREACHABLE' // no connection to the peer (unknown address, connect failed, connection lost)
  | 'HANDSHAKE_FAILED' // cluster name mismatch, wrong node id at the address, protocol error
  | 'DUPLICATE_CONNECTION' // the peer already has a connection with us (benign, see tcp-transport.ts)
  | 'INVALID_MESSAGE' // a message that cannot be encoded (unsafe integer, string too long, ...)
  | 'REMOTE_ERROR'; // the remote request handler failed with a non-transport error

export const TRANSPORT_ERROR_CODES: readonly TransportErrorCode[] = [
  'FRAME_TOO_LARGE',
  'BAD_VERSION',
  'BAD_FRAME',
  'UNKNOWN_GROUP',
  'TIMEOUT',
  'CLOSED',
  'QUEUE_FULL',
  'UNREACHABLE',
  'HANDSHAKE_FAILED',
  'DUPLICATE_CONNECTION',
  'INVALID_MESSAGE',
  'REMOTE_ERROR',
];

const CODE_SET: ReadonlySet<string> = new Set(TRANSPORT_ERROR_CODES);

export function isTransportErrorCode(s: string): s is TransportErrorCode {
  return CODE_SET.has(s);
}

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  /** True when the error was raised by the remote side and carried back in an ERROR frame. */
  readonly remote: boolean;
  /**
   * True when a request failed before any byte of it was queued for the network: the peer
   * certainly never saw it, so even a non-idempotent request may be sent again.
   */
  readonly notSent: boolean;

  constructor(code: TransportErrorCode, message: string, remote = false, notSent = false) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
    this.remote = remote;
    this.notSent = notSent;
  }
}

export function isTransportError(e: unknown): e is TransportError {
  return e instanceof TransportError;
}
