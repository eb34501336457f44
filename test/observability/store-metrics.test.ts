// The Prometheus metrics of one store, read from the text exposition as a scraper would: a real
// KvStore in this process (TCP on 127.0.0.1, memory engine), driven by the real client.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Histogram, Registry, register as globalRegister } from 'prom-client';
import { type KvClient, createClient } from '../../src/kv/client/index.js';
import { KvStore } from '../../src/kv/store/kv-store.js';
import { OpMetrics } from '../../src/kv/store/op-metrics.js';
import { LatencyWindow } from '../../src/observability/latency-window.js';
import { observeOps } from '../../src/observability/op-observer.js';
import { StoreMetrics } from '../../src/observability/store-metrics.js';
import { timedStorage } from '../../src/observability/timed-storage.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { freePort } from '../process/proc-cluster.js';
import { sample, samples, waitFor } from './helpers.js';

const quiet = { debug() {}, info() {}, warn() {} };

async function singleStore(id: string, root: string, metrics: StoreMetrics): Promise<KvStore> {
  const port = await freePort();
  return KvStore.start({
    nodeId: id,
    transport: new TcpTransport({ nodeId: id, host: '127.0.0.1', port, logger: quiet }),
    dataDir: join(root, id),
    engine: 'memory',
    peers: [{ id, host: '127.0.0.1', port }],
    raft: { tickMs: 20, electionTimeoutMs: 200, heartbeatIntervalMs: 20, snapshotEveryEntries: 20, snapshotMarginEntries: 5 },
    wrapStorage: metrics.wrapStorage,
  });
}

describe('store metrics (one store, in process)', () => {
  let root: string;
  let metrics: StoreMetrics;
  let store: KvStore;
  let kv: KvClient;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'raftkv-obs-metrics-'));
    metrics = new StoreMetrics('m1');
    store = await singleStore('m1', root, metrics);
    metrics.attach(store);
    kv = createClient({ endpoints: [store.listenAddress!], timeoutMs: 10_000 });
    await waitFor('a leader', () => (store.regions.get('1')?.node.isLeader ? true : undefined));
  });
  after(async () => {
    await kv.close();
    metrics.detach();
    await store.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('counts requests by op and code, and times them in a histogram', async () => {
    for (let i = 0; i < 50; i++) await kv.put(`k${String(i).padStart(2, '0')}`, `v${i}`);
    assert.equal((await kv.get('k07'))?.toString(), 'v7');
    const text = await metrics.text();
    const puts = sample(text, 'raftkv_requests_total', { op: 'Put', code: 'OK', store: 'm1' }) + samples(text, 'raftkv_requests_total', { op: 'PutList', code: 'OK' }).reduce((a, b) => a + b, 0);
    assert.ok(puts >= 1, 'puts are counted (the client may batch them)');
    assert.equal(sample(text, 'raftkv_requests_total', { op: 'Get', code: 'OK' }), 1);
    const served = store.service.metrics.snapshot().reduce((a, o) => a + o.calls, 0);
    assert.equal(samples(text, 'raftkv_requests_total').reduce((a, b) => a + b, 0), served, 'the counters equal what the store counted');
    assert.equal(samples(text, 'raftkv_request_duration_seconds_count').reduce((a, b) => a + b, 0), served, 'every request is in the latency histogram');
    assert.equal(sample(text, 'raftkv_request_duration_seconds_bucket', { op: 'Get', le: '+Inf' }), 1);
    assert.match(text, /# TYPE raftkv_requests_total counter/);
    assert.match(text, /# TYPE raftkv_request_duration_seconds histogram/);
  });

  it('reports each region: term, leadership, indexes, queue depth, keys; leader changes', async () => {
    const text = await metrics.text();
    const s = store.regions.get('1')!.node.status();
    const r = { region: '1', store: 'm1' };
    assert.equal(sample(text, 'raftkv_region_is_leader', r), 1);
    assert.equal(sample(text, 'raftkv_region_term', r), s.term);
    assert.ok(sample(text, 'raftkv_region_commit_index', r) >= 50);
    assert.ok(sample(text, 'raftkv_region_applied_index', r) >= 50);
    assert.ok(sample(text, 'raftkv_region_last_log_index', r) >= sample(text, 'raftkv_region_commit_index', r));
    assert.equal(sample(text, 'raftkv_region_pending_proposals', r), 0);
    assert.equal(sample(text, 'raftkv_region_keys', r), 50);
    assert.equal(sample(text, 'raftkv_regions'), 1);
    assert.equal(sample(text, 'raftkv_leader_changes_total', { region: '1' }), 1, 'the first election, seen before attach()');
    assert.deepEqual(samples(text, 'raftkv_replication_lag_entries'), [], 'a single voter has no one to lag');
  });

  it('times fsyncs, and counts snapshots with their duration', async () => {
    const text = await metrics.text();
    assert.ok(sample(text, 'raftkv_fsync_duration_seconds_count') >= 10, 'every batch of appends was synced');
    assert.ok(sample(text, 'raftkv_fsync_duration_seconds_sum') > 0);
    await waitFor('a snapshot (every 20 entries)', () => (store.recentEvents.some((e) => e.type === 'snapshot') ? true : undefined));
    const after = await metrics.text();
    assert.ok(sample(after, 'raftkv_snapshots_total', { region: '1' }) >= 1);
    assert.equal(sample(after, 'raftkv_snapshot_duration_seconds_count', { region: '1' }), sample(after, 'raftkv_snapshots_total', { region: '1' }));
    assert.ok(sample(after, 'raftkv_region_snapshot_index', { region: '1' }) >= 20);
  });

  it('counts splits, and the new region gets its own series', async () => {
    await kv.rangeSplit('1', 'k25');
    await waitFor('region 1.2 led', () => (store.regions.get('1.2')?.node.isLeader ? true : undefined));
    const text = await metrics.text();
    assert.equal(sample(text, 'raftkv_splits_total'), 1);
    assert.equal(sample(text, 'raftkv_regions'), 2);
    // Key counts are cached for up to 2 s: region 1 may still show its count before the split.
    await waitFor('key counts of both halves', async () => {
      const t = await metrics.text();
      return sample(t, 'raftkv_region_keys', { region: '1.2' }) + sample(t, 'raftkv_region_keys', { region: '1' }) === 50 ? true : undefined;
    }, 5000);
  });

  it('busy rejections are the SERVER_BUSY errors, per op', async () => {
    store.service.metrics.record('Put', 'SERVER_BUSY', 0.2);
    store.service.metrics.record('Put', 'SERVER_BUSY', 0.3);
    store.service.metrics.record('Get', 'NOT_LEADER', 0.1);
    const text = await metrics.text();
    assert.equal(sample(text, 'raftkv_busy_rejections_total', { op: 'Put' }), 2);
    assert.deepEqual(samples(text, 'raftkv_busy_rejections_total', { op: 'Get' }), []);
    assert.equal(sample(text, 'raftkv_request_errors_total', { op: 'Put', code: 'SERVER_BUSY' }), 2);
    assert.equal(sample(text, 'raftkv_request_errors_total', { op: 'Get', code: 'NOT_LEADER' }), 1);
    assert.equal(sample(text, 'raftkv_requests_total', { op: 'Put', code: 'SERVER_BUSY' }), 2);
  });

  it('includes the process metrics, on this registry only (never the global one)', async () => {
    const text = await metrics.text();
    assert.ok(sample(text, 'raftkv_process_cpu_seconds_total') > 0);
    assert.ok(samples(text, 'raftkv_nodejs_heap_size_used_bytes').length === 1);
    assert.doesNotMatch(await globalRegister.metrics(), /raftkv_/);
    const other = new StoreMetrics('m2', { processMetrics: false });
    const otherText = await other.text();
    assert.doesNotMatch(otherText, /store="m1"/, 'two stores in one process keep apart');
    assert.doesNotMatch(otherText, /raftkv_process_/);
  });
});

describe('metric building blocks', () => {
  it('timedStorage observes every sync, failed ones too', async () => {
    const h = new Histogram({ name: 'sync_seconds', help: 'h', registers: [new Registry()] });
    let fail = false;
    const storage = timedStorage(
      {
        async sync(): Promise<void> {
          await new Promise((r) => setTimeout(r, 20));
          if (fail) throw new Error('disk gone');
        },
      },
      h,
    );
    await storage.sync();
    fail = true;
    await assert.rejects(storage.sync(), /disk gone/);
    const v = (await h.get()).values;
    assert.equal(v.find((x) => x.metricName === 'sync_seconds_count')?.value, 2);
    assert.ok(v.find((x) => x.metricName === 'sync_seconds_sum')!.value >= 0.035);
  });

  it('observeOps sees every record and restores OpMetrics when the last observer leaves', () => {
    const m = new OpMetrics();
    const proto = m.record;
    const seen: string[] = [];
    const stopA = observeOps(m, (op, code) => seen.push(`a:${op}:${code ?? 'OK'}`));
    const stopB = observeOps(m, (op) => {
      seen.push(`b:${op}`);
      throw new Error('an observer failing must not fail the request');
    });
    m.record('Put', undefined, 1);
    stopA();
    m.record('Get', 'NOT_LEADER', 1);
    stopB();
    m.record('Scan', undefined, 1);
    assert.deepEqual(seen, ['a:Put:OK', 'b:Put', 'b:Get']);
    assert.equal(m.record, proto);
    assert.deepEqual(m.snapshot().map((s) => [s.op, s.calls]), [['Get', 1], ['Put', 1], ['Scan', 1]]);
  });

  it('LatencyWindow reports the last completed second only', () => {
    let now = 10_000;
    const w = new LatencyWindow(1000, 4096, () => now);
    for (let i = 1; i <= 100; i++) w.add(i);
    assert.equal(w.last().count, 0, 'the current second is not complete');
    now = 11_001;
    w.add(500);
    const s = w.last();
    assert.deepEqual([s.count, s.p50Ms, s.p99Ms, s.maxMs, s.startMs], [100, 50, 99, 100, 10_000]);
    now = 13_000;
    assert.equal(w.last().count, 0, 'an idle second reports nothing, not stale numbers');
  });
});
