// The logger injected into the storage layer. Storage logs only rare, important events: repairs
// made on open (a torn tail cut off, a half-created segment removed, the log reset behind a
// snapshot). Structurally compatible with the transport's Logger, so one object can serve both.

export type StorageLogFields = Record<string, unknown>;

export interface StorageLogger {
  warn(msg: string, fields?: StorageLogFields): void;
  info(msg: string, fields?: StorageLogFields): void;
}

export const noopStorageLogger: StorageLogger = {
  warn() {},
  info() {},
};
