// raftkv public API.
export { RawNode } from './raft/core/rawnode.js';
export { MemoryStorage, EMPTY_CONF_STATE } from './raft/core/memory-storage.js';
export type { RaftStorage, InitialState } from './raft/core/storage.js';
export { type RaftOptions, DEFAULTS as RAFT_DEFAULTS } from './raft/core/options.js';
export { RaftError, type RaftErrorCode } from './raft/core/errors.js';
export { type Rand, seededRand } from './raft/core/random.js';
export { encodeConfChange, decodeConfChange } from './raft/core/confchange-codec.js';
export * from './raft/core/types.js';
export { RaftNode, type RaftNodeOptions, type ApplyResult } from './raft/runtime/raft-node.js';
export { RaftNodeError, type NodeErrorCode } from './raft/runtime/errors.js';
export type { StateMachine, CommittedEntry, SnapshotImage } from './raft/runtime/state-machine.js';
export { MemoryNodeStorage, type NodeStorage } from './raft/runtime/node-storage.js';
export { DiskStorage } from './storage/disk-storage.js';
export { StorageError } from './storage/errors.js';
export * from './transport/index.js';
export { RaftServer } from './server/raft-server.js';
export { RaftClient, RaftClientError, type RaftClientOptions } from './client/raft-client.js';
export * from './verify/index.js';
// The KV store: client, store, configuration.
export { createClient, KvClient, KvClientError, DistributedLock } from './kv/client/index.js';
export type { KvClientOptions } from './kv/client/types.js';
export { KvStore, type KvStoreOptions } from './kv/store/kv-store.js';
export { KvErrorCode } from './kv/protocol.js';
export { loadStoreConfig, parseStoreConfig, ConfigError } from './config/load.js';
export type { StoreConfig } from './config/store-config.js';
// The placement driver: its admin API and the shapes of its answers.
export { PdAdminClient, type PdAdminClientOptions, type PdOperatorAccepted } from './pd/pd-admin-client.js';
export { PdCallError } from './pd/pd-client.js';
export type { ClusterReply, StoreSummary, RegionSummary, OperatorSummary } from './pd/pd-protocol.js';
