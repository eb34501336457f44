// The placement driver's admin API for programs (what `raftkv admin pd|decommission|scheduler`
// and the `--pd` actions use): the cluster view and operators handed to PD. Every call goes to
// any of `endpoints` (PD processes, or stores hosting PD) and follows NOT_LEADER to PD's leader.
//
//   const pd = new PdAdminClient({ endpoints: ['127.0.0.1:2379'] });
//   const { stores, regions, operators } = await pd.cluster();
//   await pd.transferLeader('r7', 's4');     // resolves once PD took the operator
//
// Failures are PdCallError with the code PD answered (NO_REGION_FOUND, SERVER_BUSY when the
// region already has an operator, INVALID_PARAMETER), or UNAVAILABLE when no PD leader answered.
// A call whose reply was lost is sent again: if PD took it the first time, the retry may come
// back SERVER_BUSY for that very operator (look at cluster().operators to tell).

import { parseAddress } from '../config/address.js';
import { toWireKey } from '../kv/protocol.js';
import { PdCallError, pdCall } from './pd-client.js';
import type { ClusterReply, PdAdmin } from './pd-protocol.js';
import { PdTag } from './pd-protocol.js';
import type { SchedulerName } from './pd-state-machine.js';

export interface PdAdminClientOptions {
  /** "host:port" of PD nodes or of stores hosting PD. */
  readonly endpoints: readonly string[];
  /** Transport handshake cluster name. Default 'raftkv'. */
  readonly cluster?: string;
  /** Time of one call, retries included (ms). Default 10_000. */
  readonly timeoutMs?: number;
}

/** PD's answer to an operator request: the region and the steps PD will take. */
export interface PdOperatorAccepted {
  readonly regionId: string;
  readonly steps: readonly string[];
}

export class PdAdminClient {
  constructor(private readonly o: PdAdminClientOptions) {
    if (!Array.isArray(o.endpoints) || o.endpoints.length === 0) throw new PdCallError('INVALID_PARAMETER', 'at least one PD endpoint ("host:port") is needed');
    for (const e of o.endpoints) if (!parseAddress(e)) throw new PdCallError('INVALID_PARAMETER', `bad PD endpoint '${e}' (want host:port)`);
  }

  private call<T>(tag: PdTag, header: unknown): Promise<T> {
    return pdCall<T>({ addresses: this.o.endpoints, ...(this.o.cluster ? { cluster: this.o.cluster } : {}), ...(this.o.timeoutMs ? { timeoutMs: this.o.timeoutMs } : {}) }, tag, header);
  }

  /** Stores (state, load, rates), regions (leader, members, size, rates, down/pending peers), operators, scheduler switches. */
  cluster(): Promise<ClusterReply> {
    return this.call(PdTag.Cluster, {});
  }

  /** Splits a region at `key` (default: its approximate middle); the new region's id comes from PD. */
  split(regionId: string, key?: string | Uint8Array): Promise<PdOperatorAccepted> {
    const k = key === undefined ? null : toWireKey(typeof key === 'string' ? new TextEncoder().encode(key) : key);
    return this.admin({ action: 'split', regionId, splitKey: k });
  }

  transferLeader(regionId: string, toStore: string): Promise<PdOperatorAccepted> {
    return this.admin({ action: 'transferLeader', regionId, to: toStore });
  }

  /** Adds a voter on `store`: PD opens the replica there, adds it as a learner, promotes it once caught up. */
  addPeer(regionId: string, store: string): Promise<PdOperatorAccepted> {
    return this.admin({ action: 'addPeer', regionId, store });
  }

  /** Removes the replica on `store` (a leader hands over first). */
  removePeer(regionId: string, store: string): Promise<PdOperatorAccepted> {
    return this.admin({ action: 'removePeer', regionId, store });
  }

  /** Marks a store offline: its replicas move away; `cluster()` then shows it drained. */
  async decommission(store: string): Promise<void> {
    await this.call(PdTag.Admin, { action: 'decommission', store } satisfies PdAdmin);
  }

  async setScheduler(name: SchedulerName, enabled: boolean): Promise<void> {
    await this.call(PdTag.Admin, { action: 'scheduler', name, enabled } satisfies PdAdmin);
  }

  private admin(a: PdAdmin): Promise<PdOperatorAccepted> {
    return this.call(PdTag.Admin, a);
  }
}
