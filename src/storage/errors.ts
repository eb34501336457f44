// Typed storage errors. A storage error stops the node: it never serves from a disk it cannot trust.

export type StorageErrorCode =
  | 'CORRUPT_LOG' // a record failed its checksum (or the log is not contiguous) before the tail
  | 'CORRUPT_META' // the meta file cannot be parsed
  | 'CORRUPT_SNAPSHOT' // a snapshot's files are unreadable or inconsistent
  | 'IO_ERROR' // the operating system failed a read, write or sync
  | 'CLOSED'; // the storage was closed

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}
