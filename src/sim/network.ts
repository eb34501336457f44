// The simulated network: per-message latency, loss, duplication, reordering, symmetric and
// one-way partitions. Partitions and the destination being down are checked when a message
// arrives, so messages already in flight when a partition starts are cut too.

import type { Message, NodeId } from '../raft/core/types.js';
import { MessageType } from '../raft/core/types.js';
import type { EventQueue } from './event-queue.js';
import { type SimRand, chance, uniform } from './rng.js';
import type { Trace } from './trace.js';

export interface NetRates {
  lossRate: number;
  dupRate: number;
  reorderRate: number;
}

export interface NetworkHooks {
  /** Whether `id` is running (messages to a stopped node are dropped). */
  isUp(id: NodeId): boolean;
  deliver(m: Message): void;
  /** Called when a message is dropped; `reason` is 'loss', 'partition' or 'down'. */
  dropped(m: Message, reason: 'loss' | 'partition' | 'down'): void;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

export class Network {
  /** Directed links that are cut: key `${from}>${to}`. */
  private readonly cut = new Set<string>();
  /** Nodes cut off from everyone (on top of `cut`). */
  private readonly isolated = new Set<NodeId>();
  rates: NetRates = { lossRate: 0, dupRate: 0, reorderRate: 0 };
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };

  constructor(
    private readonly queue: EventQueue,
    private readonly rand: SimRand,
    private readonly trace: Trace,
    private readonly hooks: NetworkHooks,
    private readonly latency: { minMs: number; maxMs: number; reorderMaxMs: number },
  ) {}

  send(m: Message): void {
    this.stats.sent++;
    this.trace.msg('send', m);
    if (m.from !== m.to && chance(this.rand, this.rates.lossRate)) {
      this.drop(m, 'loss');
      return;
    }
    this.schedule(m);
    if (m.from !== m.to && chance(this.rand, this.rates.dupRate)) {
      this.stats.duplicated++;
      this.schedule(m);
    }
  }

  private schedule(m: Message): void {
    let delay = m.from === m.to ? 0 : uniform(this.rand, this.latency.minMs, this.latency.maxMs);
    if (m.from !== m.to && chance(this.rand, this.rates.reorderRate)) {
      delay += uniform(this.rand, 0, this.latency.reorderMaxMs);
    }
    this.queue.after(delay, () => this.arrive(m));
  }

  private arrive(m: Message): void {
    if (!this.hooks.isUp(m.to)) {
      this.drop(m, 'down');
      return;
    }
    if (this.cut.has(`${m.from}>${m.to}`) || this.isolated.has(m.from) || this.isolated.has(m.to)) {
      this.drop(m, 'partition');
      return;
    }
    this.stats.delivered++;
    this.trace.msg('deliver', m);
    this.hooks.deliver(m);
  }

  private drop(m: Message, reason: 'loss' | 'partition' | 'down'): void {
    this.stats.dropped++;
    // Heartbeats are the bulk of traffic; their drops are not worth a trace line each.
    if (m.type !== MessageType.Heartbeat && m.type !== MessageType.HeartbeatResp) {
      this.trace.msg('drop', m, reason);
    }
    this.hooks.dropped(m, reason);
  }

  /** Whether messages from `from` currently reach `to` (ignoring loss). */
  connected(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(`${from}>${to}`);
  }

  /** Cuts every link between different groups, both ways. Nodes in no group are not affected. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) this.cut.add(`${a}>${b}`);
      }
    }
    this.trace.add('net', 'partition', groups.map((g) => `{${g.join(',')}}`).join(' | '));
  }

  /** Cuts the directed link from -> to only. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
    this.trace.add('net', 'one-way', `${from} -/-> ${to} (${to} -> ${from} still works)`);
  }

  /** Cuts `id` off from every other node (messages already in flight to or from it included). */
  isolate(id: NodeId): void {
    this.isolated.add(id);
    this.trace.add('net', 'isolate', `${id} cut off from everyone`);
  }

  unisolate(id: NodeId): void {
    if (this.isolated.delete(id)) this.trace.add('net', 'rejoin', `${id} reconnected`);
  }

  /** Restores one link in both directions. */
  healLink(a: NodeId, b: NodeId): void {
    this.cut.delete(`${a}>${b}`);
    this.cut.delete(`${b}>${a}`);
  }

  /** Restores every link. */
  healAll(): void {
    if (this.cut.size > 0 || this.isolated.size > 0) this.trace.add('net', 'heal', 'all links restored');
    this.cut.clear();
    this.isolated.clear();
  }

  get cutLinks(): number {
    return this.cut.size + this.isolated.size;
  }
}
