// Typed storage errors. Every error has a stable `code` callers can switch on; messages are for
// people and may change. A storage error stops the node: it never serves from a disk it cannot
// trust, and after a failed write or sync the store refuses all further use (an fsync that
// failed once cannot be retried safely: the kernel may already have dropped the dirty pages).

export type StorageErrorCode =
  | 'CORRUPT_LOG' // a log record failed its checksum (not a torn tail) or the log is not contiguous
  | 'CORRUPT_META' // the meta file is unreadable or fails its checksum
  | 'CORRUPT_SNAPSHOT' // a snapshot's files are unreadable or fail their checksum
  | 'IO_ERROR' // the operating system failed a read, write or sync (or an earlier one did)
  | 'INVALID_ARGUMENT' // bad options
  | 'CLOSED'; // the store was closed

export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

/** Wraps an operating-system error (or passes a StorageError through unchanged). */
export function ioError(what: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new StorageError('IO_ERROR', `${what}: ${detail}`, { cause: err });
}
