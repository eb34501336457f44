// fsync latency: the durable log's sync() is where a slow disk shows first (every write waits
// for it), so it gets its own histogram. Use through KvStoreOptions.wrapStorage; it composes
// with other wrappers (fault injection) in either order.

import type { Histogram } from 'prom-client';

/** Times every sync() of `storage` into `histogram` (seconds), failed syncs included. */
export function timedStorage<S extends { sync(): Promise<void> }>(storage: S, histogram: Histogram<string>): S {
  const sync = storage.sync.bind(storage);
  // Replaced on the instance (as fault-injection.ts does): the storage keeps its class, so
  // the store can use it as the NodeStorage it is.
  storage.sync = async (): Promise<void> => {
    const end = histogram.startTimer();
    try {
      await sync();
    } finally {
      end();
    }
  };
  return storage;
}
