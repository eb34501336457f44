// A tiny synchronous cluster for unit tests: every Ready is persisted at once and its messages
// are queued for delivery; the test decides what to deliver, drop or partition.

import { MemoryStorage } from '../../src/raft/core/memory-storage.js';
import type { RaftOptions } from '../../src/raft/core/options.js';
import { seededRand } from '../../src/raft/core/random.js';
import { RawNode } from '../../src/raft/core/rawnode.js';
import { type Entry, EntryType, type Message, type NodeId, type ReadFailure, type ReadState } from '../../src/raft/core/types.js';

export interface TestNode {
  id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
  readFailures: ReadFailure[];
}

export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages in flight, in send order. */
  queue: Message[] = [];
  /** Directed links that drop messages: "a->b". */
  readonly cut = new Set<string>();
  /** Every message ever sent (for assertions). */
  readonly sent: Message[] = [];

  constructor(
    ids: NodeId[],
    private readonly extra: Partial<RaftOptions> = {},
    seed = 1,
  ) {
    let s = seed;
    for (const id of ids) {
      const storage = new MemoryStorage();
      RawNode.bootstrap(storage, ids);
      this.add(id, storage, s++);
    }
    // Apply the bootstrap membership entries.
    this.processReadies();
  }

  add(id: NodeId, storage: MemoryStorage, seed: number, opts: Partial<RaftOptions> = {}): TestNode {
    const node = new RawNode({ id, storage, random: seededRand(seed), ...this.extra, ...opts });
    const t: TestNode = { id, node, storage, applied: [], readStates: [], readFailures: [] };
    this.nodes.set(id, t);
    return t;
  }

  /** Restarts a node from its storage (volatile state lost, durable state kept). */
  restart(id: NodeId, seed = 99): TestNode {
    const old = this.get(id);
    const t = this.add(id, old.storage, seed);
    return t;
  }

  get(id: NodeId): TestNode {
    const t = this.nodes.get(id);
    if (!t) throw new Error(`no node ${id}`);
    return t;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Processes every node's Ready once: persist, queue messages, apply. */
  processReadies(): boolean {
    let any = false;
    for (const t of this.nodes.values()) {
      while (t.node.hasReady()) {
        any = true;
        const rd = t.node.ready();
        this.enqueue(rd.messages);
        if (rd.hardState) t.storage.setHardState(rd.hardState);
        if (rd.snapshot) t.storage.applySnapshot(rd.snapshot);
        t.storage.append(rd.entries);
        this.enqueue(rd.messagesAfterPersist);
        for (const e of rd.committedEntries) t.applied.push(e);
        t.readStates.push(...rd.readStates);
        t.readFailures.push(...rd.readFailures);
        t.node.advance(rd);
      }
    }
    return any;
  }

  private enqueue(msgs: readonly Message[]): void {
    for (const m of msgs) {
      this.sent.push(m);
      this.queue.push(m);
    }
  }

  /** Delivers queued messages (and the ones they cause) until the cluster is quiet. */
  stabilize(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      const processed = this.processReadies();
      if (this.queue.length === 0 && !processed) return;
      const q = this.queue;
      this.queue = [];
      for (const m of q) this.deliver(m);
    }
    throw new Error('cluster did not stabilize');
  }

  /** Delivers the queued messages matching `pred` and drops the rest. */
  deliverOnly(pred: (m: Message) => boolean): void {
    const q = this.queue;
    this.queue = [];
    for (const m of q) if (pred(m)) this.deliver(m);
  }

  deliver(m: Message): void {
    if (this.cut.has(`${m.from}->${m.to}`)) return;
    const t = this.nodes.get(m.to);
    if (t) t.node.step(m);
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const t of this.nodes.values()) t.node.tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign and runs the election to completion. */
  elect(id: NodeId): void {
    this.get(id).node.campaign();
    this.stabilize();
  }

  leader(): TestNode | undefined {
    for (const t of this.nodes.values()) if (t.node.status().role === 'leader') return t;
    return undefined;
  }

  /** Application data applied on a node (no-ops and conf changes excluded), as strings. */
  data(id: NodeId): string[] {
    return this.get(id)
      .applied.filter((e) => e.type === EntryType.Normal && e.data.byteLength > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
