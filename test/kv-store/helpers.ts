// In-process store clusters for tests: real KvStores (real TCP on 127.0.0.1, real disk) in this
// process, plus a raw protocol caller for checking the server's answers byte by byte.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KvCommand, type KvResult, decodeResult, encodeCommand } from '../../src/kv/commands.js';
import { type KvErrorHeader, type KvRequestHeader, KvTag, type RegionsReply } from '../../src/kv/protocol.js';
import { KvStore } from '../../src/kv/store/kv-store.js';
import type { EngineKind } from '../../src/kv/store/region-peer.js';
import type { KvStoreOptions } from '../../src/kv/store/kv-store.js';
import { decodeEnvelope, encodeEnvelope } from '../../src/raft/runtime/rpc-router.js';
import { TransportError } from '../../src/transport/errors.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { freePort } from '../process/proc-cluster.js';

const quiet = { debug() {}, info() {}, warn() {} };
const enc = new TextEncoder();

export interface LocalCluster {
  readonly stores: Map<string, KvStore>;
  readonly addresses: Map<string, string>;
  readonly root: string;
  /** Starts (or restarts) one store. */
  start(id: string): Promise<KvStore>;
  /** Starts a new store that joins through the placement driver (no static regions). */
  join(id: string): Promise<KvStore>;
  stopOne(id: string): Promise<void>;
  close(): Promise<void>;
  /** The store leading a region (waits for one). */
  leaderOf(regionId: string, timeoutMs?: number): Promise<KvStore>;
}

export async function localCluster(n = 3, o: { engine?: EngineKind; splitKeys?: string[]; splitMinKeys?: number; snapshotEvery?: number; snapshotMargin?: number; pd?: KvStoreOptions['pd']; logger?: (id: string) => KvStoreOptions['logger'] } = {}): Promise<LocalCluster> {
  const root = mkdtempSync(join(tmpdir(), 'raftkv-kvstore-'));
  const ids = Array.from({ length: n }, (_, i) => `s${i + 1}`);
  const ports = new Map<string, number>();
  for (const id of ids) ports.set(id, await freePort());
  const peers = ids.map((id) => ({ id, host: '127.0.0.1', port: ports.get(id)! }));
  const bounds = ['', ...(o.splitKeys ?? []), ''];
  const regions = bounds.slice(0, -1).map((s, i) => ({ id: String(i + 1), startKey: enc.encode(s), endKey: enc.encode(bounds[i + 1]!) }));
  const stores = new Map<string, KvStore>();
  /** One store on its port and data dir; `own` names what differs between a static and a joining store. */
  const open = async (id: string, own: Pick<KvStoreOptions, 'peers' | 'regions' | 'pd'>): Promise<KvStore> => {
    const s = await KvStore.start({
      nodeId: id,
      transport: new TcpTransport({ nodeId: id, host: '127.0.0.1', port: ports.get(id)!, logger: quiet }),
      dataDir: join(root, id),
      engine: o.engine ?? 'memory',
      raft: { tickMs: 20, electionTimeoutMs: 200, heartbeatIntervalMs: 20, snapshotEveryEntries: o.snapshotEvery ?? 100_000, snapshotMarginEntries: o.snapshotMargin ?? 1000 },
      splitMinKeys: o.splitMinKeys ?? 2,
      ...(o.logger ? { logger: o.logger(id) } : {}),
      ...own,
    });
    stores.set(id, s);
    return s;
  };
  const c: LocalCluster = {
    stores,
    root,
    addresses: new Map(ids.map((id) => [id, `127.0.0.1:${ports.get(id)}`])),
    start: (id) => open(id, { peers, regions, ...(o.pd ? { pd: o.pd } : {}) }),
    async join(id) {
      if (!o.pd) throw new Error('join needs a cluster with a placement driver');
      if (!ports.has(id)) ports.set(id, await freePort());
      c.addresses.set(id, `127.0.0.1:${ports.get(id)}`);
      return open(id, {
        peers: [{ id, host: '127.0.0.1', port: ports.get(id)! }],
        regions: [],
        pd: { ...o.pd, voters: [], endpoints: peers.map((p) => ({ id: p.id, address: `${p.host}:${p.port}` })) },
      });
    },
    async stopOne(id) {
      const s = stores.get(id);
      stores.delete(id);
      await s?.stop();
    },
    async close() {
      for (const id of [...stores.keys()]) await c.stopOne(id);
      rmSync(root, { recursive: true, force: true });
    },
    async leaderOf(regionId, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const s of stores.values()) if (s.regions.get(regionId)?.node.isLeader) return s;
        if (Date.now() > deadline) throw new Error(`no leader for region ${regionId} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
  await Promise.all(ids.map((id) => c.start(id)));
  return c;
}

/** A raw protocol caller (no routing, no retries): what a store answers to exactly this request. */
export class RawCaller {
  readonly t = new TcpTransport({ nodeId: `raw-${Math.random().toString(16).slice(2)}`, logger: quiet });
  private callId = 1;
  readonly clientId = `raw-${Math.random().toString(16).slice(2)}`;

  constructor(addresses: Map<string, string>) {
    for (const [id, a] of addresses) {
      const [h, p] = a.split(':');
      this.t.setPeer(id, h!, Number(p));
    }
  }

  /**
   * A request, retried while the store cannot be reached at all (it is restarting, or the
   * transport is in its reconnect backoff): the request was then never sent.
   */
  private async request(store: string, group: string, payload: Uint8Array): Promise<Uint8Array> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await this.t.request(store, group, payload, { timeoutMs: 5000 });
      } catch (e) {
        if (!(e instanceof TransportError && e.notSent) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async regions(store: string): Promise<RegionsReply> {
    const r = decodeEnvelope<RegionsReply>(await this.request(store, '', encodeEnvelope(KvTag.Regions, {})));
    return r.header;
  }

  async send(store: string, regionId: string, header: Partial<KvRequestHeader>, cmd: KvCommand | Uint8Array): Promise<{ ok: true; result: KvResult } | { ok: false; error: KvErrorHeader }> {
    const body = cmd instanceof Uint8Array ? cmd : encodeCommand(cmd);
    const h = { version: 1, clientId: this.clientId, callId: this.callId++, ...header };
    const r = decodeEnvelope<unknown>(await this.request(store, regionId, encodeEnvelope(KvTag.Command, h, body)));
    return r.tag === 0 ? { ok: true, result: decodeResult(r.body) } : { ok: false, error: r.header as KvErrorHeader };
  }

  close(): Promise<void> {
    return this.t.close();
  }
}
