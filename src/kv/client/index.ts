// The smart KV client: createClient({ endpoints }) and its types.
export { KvClient, createClient } from './kv-client.js';
export { KvClientError, ClientErrorCode } from './errors.js';
export { DistributedLock } from './lock.js';
export type { Key, Value } from './keys.js';
export type {
  CompareAndPutEntry,
  DistributedLockOptions,
  ExecuteOptions,
  GetOptions,
  IteratorOptions,
  KvClientOptions,
  KvPair,
  LockOptions,
  LockResult,
  ReadConsistency,
  RegionDescriptor,
  ScanOptions,
  SequenceRange,
  SplitResult,
} from './types.js';
