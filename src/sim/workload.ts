// Simulated clients. Each client runs one operation at a time: a write ("set key := unique id")
// proposed to the node it believes leads, or a linearizable read (read index, sometimes through
// the leader lease) sent to the leader or to a random follower. Clients follow NOT_LEADER hints,
// time out, and never retry a write that may have been appended (a retry gets a fresh id, so
// every payload in the log is unique and "exactly once" is checkable).

import { RaftError } from '../raft/core/errors.js';
import type { NodeId } from '../raft/core/types.js';
import type { ProposalOutcome, ReadOutcome, SimNode } from './node-host.js';
import type { Profile } from './options.js';
import { type SimRand, chance, pick, uniform } from './rng.js';
import type { Trace } from './trace.js';
import type { EventQueue } from './event-queue.js';

export interface WorkloadHost {
  readonly queue: EventQueue;
  readonly trace: Trace;
  /** Nodes a client may contact (running or not). */
  contactable(): SimNode[];
  node(id: NodeId): SimNode | undefined;
}

interface Client {
  readonly name: string;
  hint: NodeId;
  /** Token of the operation in progress (late callbacks of older ones are ignored). */
  op: number;
}

export const CLIENT_TIMEOUT_MS = 1500;

export class Workload {
  private readonly clients: Client[] = [];
  private stopped = true;
  private writeSeq = 0;
  private readSeq = 0;
  readonly stats = { writes: 0, acked: 0, lost: 0, unknown: 0, rejected: 0, reads: 0, readsOk: 0, readsFailed: 0, timeouts: 0 };

  constructor(
    private readonly host: WorkloadHost,
    private readonly rand: SimRand,
    private readonly profile: Profile,
  ) {
    for (let i = 0; i < profile.clients; i++) this.clients.push({ name: `c${i + 1}`, hint: '', op: 0 });
  }

  /** A fresh write id (ids are unique across the run). */
  nextWriteId(): number {
    return ++this.writeSeq;
  }

  get running(): boolean {
    return !this.stopped;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const c of this.clients) this.host.queue.after(uniform(this.rand, 0, 20), () => this.next(c));
  }

  /** No new operations (those in flight still complete). */
  stop(): void {
    this.stopped = true;
  }

  private next(c: Client): void {
    if (this.stopped) return;
    const op = ++c.op;
    if (chance(this.rand, this.profile.readRatio)) this.read(c, op);
    else this.write(c, op);
  }

  private later(c: Client, op: number, ms: number): void {
    this.host.queue.after(ms, () => {
      if (c.op === op) this.next(c);
    });
  }

  private think(): number {
    return uniform(this.rand, 0, this.profile.thinkMs);
  }

  private target(c: Client, preferLeader: boolean): SimNode | undefined {
    const nodes = this.host.contactable();
    if (nodes.length === 0) return undefined;
    if (preferLeader && c.hint) {
      const n = this.host.node(c.hint);
      if (n && !n.decommissioned) return n;
    }
    return pick(this.rand, nodes);
  }

  private write(c: Client, op: number): void {
    const n = this.target(c, true);
    if (!n) {
      this.later(c, op, 10);
      return;
    }
    const w = { id: this.nextWriteId(), key: `k${this.rand.int(this.profile.keys)}` };
    // Client -> node latency.
    this.host.queue.after(uniform(this.rand, 0.2, 2), () => {
      if (c.op !== op) return;
      if (!n.up) {
        c.hint = '';
        this.later(c, op, uniform(this.rand, 5, 30));
        return;
      }
      let settled = false;
      const done = (o: ProposalOutcome): void => {
        if (o.kind === 'ack') this.stats.acked++;
        else if (o.kind === 'lost') this.stats.lost++;
        else this.stats.unknown++;
        if (settled || c.op !== op) return;
        settled = true;
        this.later(c, op, this.think());
      };
      try {
        this.stats.writes++;
        n.propose(w, done);
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
        this.stats.rejected++;
        c.hint = e.code === 'NOT_LEADER' ? e.leader : '';
        const backoff = e.code === 'NOT_LEADER' && e.leader ? 0.5 : uniform(this.rand, 5, 40);
        this.later(c, op, backoff);
        return;
      }
      this.host.queue.after(CLIENT_TIMEOUT_MS, () => {
        if (settled || c.op !== op) return;
        settled = true;
        this.stats.timeouts++;
        c.hint = '';
        this.next(c);
      });
    });
  }

  private read(c: Client, op: number): void {
    const toLeader = chance(this.rand, 0.6);
    const n = this.target(c, toLeader);
    if (!n) {
      this.later(c, op, 10);
      return;
    }
    const key = `k${this.rand.int(this.profile.keys)}`;
    const lease = this.profile.leaseReads && chance(this.rand, 0.5);
    const reqId = `r${++this.readSeq}`;
    this.host.queue.after(uniform(this.rand, 0.2, 2), () => {
      if (c.op !== op) return;
      if (!n.up) {
        c.hint = '';
        this.later(c, op, uniform(this.rand, 5, 30));
        return;
      }
      let settled = false;
      this.stats.reads++;
      n.read(reqId, key, lease, (o: ReadOutcome) => {
        if (settled || c.op !== op) return;
        settled = true;
        if (o.kind === 'ok') this.stats.readsOk++;
        else this.stats.readsFailed++;
        if (o.kind === 'failed') c.hint = o.leader;
        this.later(c, op, o.kind === 'ok' ? this.think() : uniform(this.rand, 2, 20));
      });
      this.host.queue.after(CLIENT_TIMEOUT_MS, () => {
        if (settled || c.op !== op) return;
        settled = true;
        this.stats.timeouts++;
        n.forgetRead(reqId);
        c.hint = '';
        this.next(c);
      });
    });
  }
}
