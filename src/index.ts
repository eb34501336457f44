// raftkv public API (the parts that exist so far).
export { RawNode } from './raft/core/rawnode.js';
export { MemoryStorage, EMPTY_CONF_STATE } from './raft/core/memory-storage.js';
export type { RaftStorage, InitialState } from './raft/core/storage.js';
export { type RaftOptions, DEFAULTS as RAFT_DEFAULTS } from './raft/core/options.js';
export { RaftError, type RaftErrorCode } from './raft/core/errors.js';
export { type Rand, seededRand } from './raft/core/random.js';
export { encodeConfChange, decodeConfChange } from './raft/core/confchange-codec.js';
export * from './raft/core/types.js';
