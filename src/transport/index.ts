// The transport layer: binary codec, framing, TCP and in-memory transports.
export { TransportError, isTransportError, type TransportErrorCode } from './errors.js';
export { type Logger, type LogFields, noopLogger, warnOnlyConsoleLogger } from './logger.js';
export { CODEC_VERSION, encodeMessage, decodeMessage, writeMessage, messageSizeBound } from './raft-codec.js';
export {
  FRAME_VERSION,
  DEFAULT_MAX_FRAME_SIZE,
  FrameKind,
  type Frame,
  FrameDecoder,
  encodeFrame,
  writeRaftFrame,
  encodeErrorFrame,
  decodeErrorPayload,
} from './frame.js';
export type {
  Transport,
  TransportOptions,
  GroupHandler,
  RequestHandler,
  RequestOptions,
  SendStatus,
  ListenAddress,
} from './transport.js';
export { TcpTransport, type TcpTransportOptions, type TcpTransportStats } from './tcp-transport.js';
export { MemoryHub, MemoryTransport, type MemoryHubOptions } from './memory-transport.js';
