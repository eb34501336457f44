// The store's HTTP endpoints on a real in-process 3-store cluster (TCP on 127.0.0.1): health,
// readiness (and how it fails), the status API, the cluster view polled over the KV transport,
// the event stream, and the metrics endpoint.

import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type KvClient, createClient } from '../../src/kv/client/index.js';
import type { ClusterSnapshot } from '../../src/observability/cluster-view.js';
import { type HttpServerHandle, parseListenAddress, startHttpServer } from '../../src/observability/http-server.js';
import type { StoreStatus } from '../../src/observability/store-status.js';
import { type LocalCluster, localCluster } from '../kv-store/helpers.js';
import { getJson, httpGet, sample, samples, waitFor } from './helpers.js';

/** Reads an SSE stream until `count` events named `name` arrived (bounded), then closes it. */
function readEvents(url: string, name: string, count: number, timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    const req = get(url, (res) => {
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      let buf = '';
      res.on('close', () => {
        clearTimeout(t);
        if (got.length < count) reject(new Error(`the stream ended after ${got.length} '${name}' events`));
      });
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (ev === name && data) got.push(JSON.parse(data));
          if (got.length >= count) {
            clearTimeout(t);
            req.destroy();
            resolve(got);
          }
        }
      });
    });
    const t = setTimeout(() => {
      req.destroy();
      reject(new Error(`only ${got.length} '${name}' events within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => {
      if (got.length < count) reject(e);
    });
  });
}

describe('HTTP endpoints (3 in-process stores, regions [-inf,m) [m,+inf))', () => {
  let c: LocalCluster;
  let kv: KvClient;
  const http = new Map<string, HttpServerHandle>();
  const url = (id: string, path: string): string => `http://${http.get(id)!.address}${path}`;

  before(async () => {
    c = await localCluster(3, { splitKeys: ['m'] });
    for (const [id, s] of c.stores) http.set(id, await startHttpServer(s, { port: 0, clusterName: 'test-cluster' }));
    kv = createClient({ endpoints: [...c.addresses.values()], timeoutMs: 10_000 });
    await c.leaderOf('1');
    await c.leaderOf('2');
    for (let i = 0; i < 20; i++) await kv.put(`${i % 2 === 0 ? 'a' : 'z'}${i}`, 'v');
  });
  after(async () => {
    await kv.close();
    for (const h of http.values()) await h.close();
    await c.close();
  });

  it('/health answers ok', async () => {
    const r = await getJson<{ status: string; storeId: string }>(url('s1', '/health'));
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.status, r.body.storeId], ['ok', 's1']);
  });

  it('/ready is 200 on every store once every region has a leader and is applied', async () => {
    for (const id of c.stores.keys()) {
      await waitFor(`${id} ready`, async () => ((await getJson(url(id, '/ready'))).status === 200 ? true : undefined));
      assert.deepEqual((await getJson(url(id, '/ready'))).body, { status: 'ready' });
    }
  });

  it('/api/status: regions with range, epoch, role, leader, indexes, keys; lag on the leader; ops; events', async () => {
    const leader = (await c.leaderOf('1')).nodeId;
    const follower = [...c.stores.keys()].find((id) => id !== leader)!;
    await waitFor('followers caught up', async () => {
      const s = (await getJson<StoreStatus>(url(leader, '/api/status'))).body;
      return s.regions.find((r) => r.id === '1')!.peers.every((p) => p.lag === 0) ? true : undefined;
    });
    const { status, body: s } = await getJson<StoreStatus>(url(leader, '/api/status'));
    assert.equal(status, 200);
    assert.equal(s.storeId, leader);
    assert.equal(s.address, c.addresses.get(leader));
    assert.equal(s.httpAddress, http.get(leader)!.address);
    assert.ok(s.uptimeMs >= 0 && s.ready.ready);
    assert.deepEqual(s.regions.map((r) => [r.id, r.startKey, r.endKey, r.epoch.version]), [['1', '', 'm', 1], ['2', 'm', '', 1]]);
    const r1 = s.regions[0]!;
    assert.deepEqual([r1.role, r1.leader], ['leader', leader]);
    assert.ok(r1.term >= 1 && r1.commit >= 10 && r1.applied === r1.commit && r1.lastIndex >= r1.commit);
    assert.equal(r1.keys, 10);
    assert.deepEqual(r1.peers.map((p) => p.id).sort(), [...c.stores.keys()].filter((id) => id !== leader).sort());
    assert.ok(r1.peers.every((p) => p.lag === r1.lastIndex - p.match));
    assert.ok(s.ops.some((o) => o.calls > 0), 'op stats');
    assert.ok(s.events.some((e) => e.type === 'role' && e.regionId === '1'), 'recent role changes');

    const f = (await getJson<StoreStatus>(url(follower, '/api/status'))).body;
    const f1 = f.regions.find((r) => r.id === '1')!;
    assert.deepEqual([f1.role, f1.leader, f1.peers.length], ['follower', leader, 0]);
  });

  it('/metrics: Prometheus text with this store only', async () => {
    const leader = (await c.leaderOf('1')).nodeId;
    const r = await httpGet(url(leader, '/metrics'));
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain/);
    assert.equal(sample(r.body, 'raftkv_region_is_leader', { region: '1', store: leader }), 1);
    assert.equal(samples(r.body, 'raftkv_replication_lag_entries', { region: '1' }).length, 2, 'one series per follower');
    assert.equal(samples(r.body, 'raftkv_region_term').length, 2);
    assert.doesNotMatch(r.body, new RegExp(`store="(?!${leader}")`), 'no other store in this registry');
  });

  it('/api/cluster: every store and every region with its leader, polled over the transport', async () => {
    const l1 = (await c.leaderOf('1')).nodeId;
    const l2 = (await c.leaderOf('2')).nodeId;
    const view = (await getJson<ClusterSnapshot>(url('s2', '/api/cluster'))).body;
    assert.equal(view.self, 's2');
    assert.deepEqual(view.stores.map((s) => [s.id, s.up, s.self]), [['s1', true, false], ['s2', true, true], ['s3', true, false]]);
    assert.deepEqual(view.regions.map((r) => [r.id, r.startKey, r.endKey, r.leader]), [['1', '', 'm', l1], ['2', 'm', '', l2]]);
    assert.deepEqual(Object.keys(view.regions[0]!.replicas).sort(), ['s1', 's2', 's3']);
    assert.ok(view.stores.reduce((a, s) => a + s.calls, 0) >= 1, 'requests served across the cluster');
    assert.ok(view.events.some((e) => e.type === 'leader' && e.region === '1' && e.leader === l1));
  });

  it('/api/events streams a status tick with the cluster view', async () => {
    const [tick] = (await readEvents(url('s3', '/api/events'), 'status', 1)) as Array<{ status: StoreStatus; cluster: ClusterSnapshot }>;
    assert.equal(tick!.status.storeId, 's3');
    assert.equal(tick!.cluster.stores.length, 3);
    const two = await readEvents(url('s3', '/api/events'), 'status', 2, 4000);
    assert.equal(two.length, 2, 'ticks keep coming');
  });

  it('/ serves the dashboard; unknown paths are 404, other methods 405', async () => {
    const page = await httpGet(url('s1', '/'));
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /id="regions-table"/);
    assert.match(page.body, /test-cluster/);
    assert.equal((await httpGet(url('s1', '/nope'))).status, 404);
    const post = await new Promise<number>((resolve, reject) => {
      const req = get(url('s1', '/metrics'), { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    assert.equal(post, 405);
  });

  it('close() ends open event streams at once', async () => {
    const h = await startHttpServer(c.stores.get('s1')!, { port: 0 });
    const stream = readEvents(`http://${h.address}/api/events`, 'never', 1, 10_000).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await h.close();
    assert.ok(Date.now() - t0 < 2000, 'close() did not wait for the stream');
    const ended = await stream;
    assert.ok(ended instanceof Error && /the stream ended/.test(ended.message), String(ended));
    assert.ok(Date.now() - t0 < 2000, 'the stream ended with the server');
  });

  // Last: it takes two stores down.
  it('/ready is 503 with the reason when a region has no leader; the cluster view shows stores down', async () => {
    const keep = 's1';
    for (const id of ['s2', 's3']) {
      await http.get(id)!.close();
      http.delete(id);
      await c.stopOne(id);
    }
    const r = await waitFor('s1 not ready', async () => {
      const x = await getJson<{ status: string; reasons: string[] }>(url(keep, '/ready'));
      return x.status === 503 ? x.body : undefined;
    }, 15_000);
    assert.equal(r.status, 'not ready');
    assert.ok(r.reasons.some((m) => /no leader known/.test(m)), r.reasons.join('; '));
    assert.equal((await getJson(url(keep, '/health'))).status, 200, 'alive all the same');
    // s1 may lead a region for one more election timeout, until check-quorum makes it step down.
    const view = await waitFor('s2, s3 down and no leader', async () => {
      const v = (await getJson<ClusterSnapshot>(url(keep, '/api/cluster'))).body;
      return v.stores.filter((s) => !s.up).length === 2 && v.regions.every((x) => x.leader === '') ? v : undefined;
    });
    assert.deepEqual(view.stores.map((s) => [s.id, s.up]), [['s1', true], ['s2', false], ['s3', false]]);
    assert.ok(view.events.some((e) => e.type === 'store-down'));
  });
});

describe('parseListenAddress', () => {
  it('accepts host:port, [v6]:port and port 0; refuses the rest', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9301'), { host: '127.0.0.1', port: 9301 });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.equal(parseListenAddress('9301'), undefined);
    assert.equal(parseListenAddress('h:70000'), undefined);
  });
});
