// Network fault injection for verification runs (never on by default): wraps a node's transport
// so that Raft messages on blocked links are dropped. The blocked links come from a JSON file
// the verifier rewrites ({"blocked": ["n1->n2", ...]}), polled every 25 ms: symmetric and
// one-way partitions, bridges, isolation. Client requests (request/response) pass untouched.

import { readFileSync } from 'node:fs';
import type { Message, NodeId } from '../raft/core/types.js';
import type { Transport } from '../transport/transport.js';

interface Faults {
  /** Links whose Raft messages are lost: "a->b". */
  blocked?: string[];
  /** Per node: extra milliseconds every storage sync (fsync) takes. */
  slowSyncMs?: Record<NodeId, number>;
}

/** The current faults of a verification run, polled from `file` every 25 ms. */
export class FaultFile {
  private faults: Faults = {};

  constructor(private readonly file: string) {
    this.load();
    setInterval(() => this.load(), 25).unref();
  }

  private load(): void {
    try {
      this.faults = JSON.parse(readFileSync(this.file, 'utf8')) as Faults;
    } catch {
      // missing or half-written: keep the previous state
    }
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.faults.blocked?.includes(`${from}->${to}`) ?? false;
  }

  syncDelayMs(node: NodeId): number {
    return this.faults.slowSyncMs?.[node] ?? 0;
  }
}

/** Makes every sync of `storage` wait the configured extra time first (a slow or stalled disk). */
export function withSlowSync<S extends { sync(): Promise<void> }>(storage: S, self: NodeId, faults: FaultFile): S {
  const sync = storage.sync.bind(storage);
  storage.sync = async (): Promise<void> => {
    const ms = faults.syncDelayMs(self);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    return sync();
  };
  return storage;
}

export function withFaults<T extends Transport>(t: T, self: NodeId, faults: FaultFile): T {
  const send = t.send.bind(t);
  const register = t.register.bind(t);
  // A dropped message looks sent (the network lost it): Raft must cope with that.
  t.send = (groupId: string, msg: Message): boolean => (faults.isBlocked(self, msg.to) ? true : send(groupId, msg));
  t.register = (groupId: string, onMessage: (m: Message) => void, onUnreachable?: (peer: NodeId) => void): void =>
    register(groupId, (m) => {
      if (!faults.isBlocked(m.from, self)) onMessage(m);
    }, onUnreachable);
  return t;
}
