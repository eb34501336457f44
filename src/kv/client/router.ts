// Keeps the route table fresh: fetches it from the stores (KvTag.Regions), registers every peer
// it names with the transport, and waits for routes that cover a key, a range or a region id.

import { decodeEnvelope, encodeEnvelope } from '../../raft/runtime/rpc-router.js';
import type { Transport } from '../../transport/transport.js';
import { KvTag, type KvErrorHeader, type RegionInfo, type RegionsReply } from '../protocol.js';
import { KvClientError } from './errors.js';
import { type Lifecycle, backoffMs } from './lifecycle.js';
import { type RegionRoute, RouteTable } from './route-table.js';

/** "host:port" (or "[v6]:port") -> its parts; undefined when malformed. */
export function parseAddress(address: string): { host: string; port: number } | undefined {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m || m[1] === '') return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** The transport id of an address-only peer. */
export const addressId = (address: string): string => `@${address}`;

export class Router {
  readonly table = new RouteTable();
  /** Transport ids of the configured endpoints ('@host:port'). */
  readonly endpointIds: readonly string[];
  /** Transport ids of the placement driver's nodes ('@host:port'): asked first on every refresh. */
  readonly pdIds: readonly string[];
  /** PD's leader when last heard of (a transport id), asked before the other PD nodes. */
  private pdLeader: string | undefined;
  /** address -> the transport id used for it. */
  private readonly byAddress = new Map<string, string>();
  /** node id -> address. */
  private readonly nodeAddress = new Map<string, string>();
  private refreshing: Promise<boolean> | null = null;
  private nextSource = 0;
  private lastError = '';

  constructor(
    private readonly transport: Transport,
    endpoints: readonly string[],
    private readonly life: Lifecycle,
    private readonly attemptTimeoutMs: number,
    pdEndpoints: readonly string[] = [],
  ) {
    this.endpointIds = endpoints.map((e) => {
      this.registerPeer(addressId(e), e);
      return addressId(e);
    });
    this.pdIds = pdEndpoints.map((e) => {
      this.registerPeer(addressId(e), e);
      return addressId(e);
    });
  }

  /**
   * Learns where peer `id` (a node id, or an address-only '@host:port') listens. The transport
   * gets ONE id per address: a store reached first as an endpoint ('@host:port') keeps being
   * reached under that id when the routes name it by node id, because the TCP transport allows
   * a single connection between two nodes and would refuse a second one to the same store.
   */
  registerPeer(id: string, address: string): void {
    if (!id || !address || !parseAddress(address)) return;
    if (id.startsWith('@')) {
      if (!this.byAddress.has(address)) this.bind(address, id);
      return;
    }
    this.nodeAddress.set(id, address);
    const cur = this.byAddress.get(address);
    // A free address, or one a node id held and another node id now claims (the store there was replaced).
    if (cur === undefined || (!cur.startsWith('@') && cur !== id)) this.bind(address, id);
  }

  private bind(address: string, tid: string): void {
    const a = parseAddress(address)!;
    this.byAddress.set(address, tid);
    this.transport.setPeer(tid, a.host, a.port);
  }

  /** The transport id that reaches peer `id` (a node id or '@host:port'), if its address is known. */
  transportId(id: string): string | undefined {
    if (id.startsWith('@')) return this.byAddress.get(id.slice(1)) === id ? id : undefined;
    const address = this.nodeAddress.get(id);
    return address === undefined ? undefined : this.byAddress.get(address);
  }

  /** Is `id` a peer the transport can address? */
  knows(id: string): boolean {
    return this.transportId(id) !== undefined;
  }

  /** Takes in news about regions (peers included). Returns whether the routing changed. */
  absorb(infos: readonly RegionInfo[]): boolean {
    for (const r of infos) for (const p of [...(r.voters ?? []), ...(r.learners ?? [])]) this.registerPeer(p.id, p.address);
    return this.table.merge(infos);
  }

  /**
   * Fetches the regions from the stores in turn (endpoints first, then peers known from the
   * table), merging every reply, until the table covers the whole key space. Concurrent calls
   * share one fetch. Resolves with whether the routing changed; never rejects.
   */
  refresh(deadline = Date.now() + this.attemptTimeoutMs): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.fetch(deadline).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /**
   * Fetches the regions from `peer` first (e.g. the leader that just applied a split, which
   * knows the new layout before lagging replicas do), then from the others until covered.
   */
  refreshFrom(peer: string, deadline = Date.now() + this.attemptTimeoutMs): Promise<boolean> {
    return this.fetch(deadline, peer);
  }

  private async fetch(deadline: number, first?: string): Promise<boolean> {
    const eps = this.endpointIds;
    const start = this.nextSource++ % Math.max(1, eps.length);
    const sources = [...eps.slice(start), ...eps.slice(0, start)];
    if (first !== undefined) {
      const firstTid = this.transportId(first) ?? first;
      const at = sources.findIndex((x) => (this.transportId(x) ?? x) === firstTid);
      if (at >= 0) sources.splice(at, 1);
      sources.unshift(first);
    }
    // PD's route table first (its leader, when known), then the stores.
    const pd = this.pdLeader ? [this.pdLeader, ...this.pdIds.filter((x) => x !== this.pdLeader)] : [...this.pdIds];
    sources.splice(first !== undefined ? 1 : 0, 0, ...pd);
    const pdSources = new Set<string>(pd);
    const hinted = new Set<string>();
    const seenAddresses = new Set([...eps, ...pd].map((e) => e.slice(1)));
    for (const r of this.table.all()) {
      for (const p of r.voters) {
        if (!seenAddresses.has(p.address) && !sources.includes(p.id) && !sources.some((x) => this.transportId(x) === this.transportId(p.id))) {
          seenAddresses.add(p.address);
          sources.push(p.id);
        }
      }
    }
    let changed = false;
    let answered = false;
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i]!;
      if (this.life.closed) break;
      const timeoutMs = Math.min(this.attemptTimeoutMs, deadline - Date.now());
      if (timeoutMs <= 0) break;
      try {
        const raw = await this.life.race(this.transport.request(this.transportId(src) ?? src, '', encodeEnvelope(KvTag.Regions, {}), { timeoutMs }));
        const res = decodeEnvelope<RegionsReply | KvErrorHeader>(raw);
        if (res.tag !== 0) {
          const e = res.header as KvErrorHeader;
          this.lastError = `${src}: ${e.code}: ${e.message}`;
          // A PD node that does not lead names its leader: ask it next.
          if (pdSources.has(src) && e.code === 'NOT_LEADER' && e.leaderAddress && parseAddress(e.leaderAddress)) {
            const leader = addressId(e.leaderAddress);
            this.registerPeer(leader, e.leaderAddress);
            const tid = this.transportId(leader) ?? leader;
            // Each hint is followed once per refresh (two nodes with stale hints must not ping-pong).
            if (tid !== src && !hinted.has(tid)) {
              hinted.add(tid);
              pdSources.add(tid);
              sources.splice(i + 1, 0, tid);
            }
          }
          continue;
        }
        if (pdSources.has(src)) this.pdLeader = src;
        const reply = res.header as RegionsReply;
        if (!Array.isArray(reply.regions)) {
          this.lastError = `${src}: malformed Regions reply`;
          continue;
        }
        answered = true;
        changed = this.absorb(reply.regions) || changed;
        // PD's route table, from its leader: the regions of stores not asked yet.
        if (Array.isArray(reply.pdRoutes)) changed = this.absorb(reply.pdRoutes) || changed;
        if (this.table.coversAll()) break;
      } catch (e) {
        this.lastError = `${src}: ${(e as { code?: string }).code ?? 'ERROR'}: ${(e as Error).message}`;
      }
    }
    if (answered && this.table.coversAll()) this.lastError = '';
    return changed;
  }

  /** The region holding `key`, refreshing (and waiting) until one is known or the deadline. */
  async locate(key: Uint8Array, deadline: number): Promise<RegionRoute> {
    for (let attempt = 0; ; attempt++) {
      const r = this.table.find(key);
      if (r) return r;
      await this.waitForNews(deadline, attempt, () => `no region known for key ${fmtKey(key)}`);
    }
  }

  /** The region holding the keys just below `end` ('' = the last region). */
  async locateBefore(end: Uint8Array, deadline: number): Promise<RegionRoute> {
    for (let attempt = 0; ; attempt++) {
      const r = this.table.findBefore(end);
      if (r) return r;
      await this.waitForNews(deadline, attempt, () => `no region known below ${end.length ? fmtKey(end) : '+inf'}`);
    }
  }

  /** The regions covering [start, end) ('' = unbounded), in key order, without gaps. */
  async cover(start: Uint8Array, end: Uint8Array, deadline: number): Promise<RegionRoute[]> {
    for (let attempt = 0; ; attempt++) {
      const o = this.table.overlapping(start, end);
      if (o.covered) return o.regions;
      await this.waitForNews(deadline, attempt, () => `no regions cover [${fmtKey(start)}, ${end.length ? fmtKey(end) : '+inf'})`);
    }
  }

  /** The region with that id (one refresh if unknown); NO_REGION_FOUND if there is none. */
  async byId(id: string, deadline: number): Promise<RegionRoute> {
    let r = this.table.byId(id);
    if (!r) {
      await this.refresh(deadline);
      r = this.table.byId(id);
    }
    if (!r) throw new KvClientError('NO_REGION_FOUND', `no region '${id}' is known to the stores`, id);
    return r;
  }

  /** The first region (it starts at -inf). */
  async first(deadline: number): Promise<RegionRoute> {
    return this.locate(Buffer.alloc(0), deadline);
  }

  /**
   * The routes were found stale: take the store's view of the region if it came with the
   * refusal; when that changes nothing, refresh from the stores; when that changes nothing
   * either (a store lagging behind the split), wait a little.
   */
  async recover(region: RegionInfo | undefined, deadline: number, attempt: number): Promise<void> {
    if (region && this.absorb([region])) return;
    if (await this.refresh(deadline)) return;
    await this.life.sleep(Math.min(backoffMs(attempt), Math.max(0, deadline - Date.now())));
  }

  private async waitForNews(deadline: number, attempt: number, what: () => string): Promise<void> {
    this.life.check();
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new KvClientError('DEADLINE_EXCEEDED', `${what()} within the deadline${this.lastError ? ` (last route refresh: ${this.lastError})` : ''}`);
    }
    if (attempt > 0) await this.life.sleep(Math.min(backoffMs(attempt), left));
    await this.refresh(deadline);
  }
}

export function fmtKey(k: Uint8Array): string {
  const b = Buffer.from(k.buffer, k.byteOffset, k.byteLength);
  return /^[\x20-\x7e]*$/.test(b.toString('latin1')) ? JSON.stringify(b.toString('latin1')) : `0x${b.toString('hex')}`;
}
