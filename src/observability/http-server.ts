// The store's HTTP endpoint (plain node:http, no framework):
//
//   GET /             the live dashboard (dashboard.ts)
//   GET /metrics      Prometheus text exposition (store-metrics.ts)
//   GET /health       200 {"status":"ok"} while the process serves HTTP (liveness)
//   GET /ready        200 {"status":"ready"} or 503 {"status":"not ready","reasons":[...]} (see readiness())
//   GET /api/status   this store: regions, Raft state, lag, op stats, recent events (store-status.ts)
//   GET /api/cluster  every store and region of the cluster, polled over the KV transport (cluster-view.ts)
//   GET /api/events   Server-Sent Events: store events, and a status tick every second (event-stream.ts)

import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KvStore } from '../kv/store/kv-store.js';
import { ClusterView } from './cluster-view.js';
import { dashboardPage } from './dashboard.js';
import { EventStream } from './event-stream.js';
import { LatencyWindow } from './latency-window.js';
import { observeOps } from './op-observer.js';
import { KeyCounts } from './region-status.js';
import { StoreMetrics } from './store-metrics.js';
import { type StatusContext, readiness, storeStatus } from './store-status.js';

export interface HttpServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port; see the returned address). */
  readonly port?: number;
  /** The store's metrics (made before the store to time fsyncs). Default: new ones, attached here. */
  readonly metrics?: StoreMetrics;
  /** Shown in the dashboard's header. Default 'raftkv'. */
  readonly clusterName?: string;
  /** /ready allows a region's applied index this far behind its commit index. Default 100. */
  readonly maxApplyLag?: number;
}

export interface HttpServerHandle {
  /** "host:port" the server listens on. */
  readonly address: string;
  readonly port: number;
  readonly metrics: StoreMetrics;
  /** Ends event streams and open connections, stops listening. Idempotent. */
  close(): Promise<void>;
}

export async function startHttpServer(store: KvStore, o: HttpServerOptions = {}): Promise<HttpServerHandle> {
  const ownMetrics = !o.metrics;
  const metrics = o.metrics ?? new StoreMetrics(store.nodeId).attach(store);
  const keys = new KeyCounts();
  const latency = new LatencyWindow();
  const stopObserving = observeOps(store.service.metrics, (_op, _code, ms) => latency.add(ms));
  const cluster = new ClusterView(store, keys);
  let httpAddress = '';
  const ctx = (): StatusContext => ({ httpAddress, keys, latency: () => latency.last(), ...(o.maxApplyLag !== undefined ? { maxApplyLag: o.maxApplyLag } : {}) });
  const events = new EventStream(store, async () => {
    const { events: _omitted, ...status } = storeStatus(store, ctx()); // events travel one by one
    return { status, cluster: await cluster.get() };
  });
  const page = dashboardPage({ clusterName: o.clusterName ?? 'raftkv', storeId: store.nodeId });

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>> = {
    '/': (_req, res) => send(res, 200, 'text/html; charset=utf-8', page),
    '/index.html': (_req, res) => send(res, 200, 'text/html; charset=utf-8', page),
    '/metrics': async (_req, res) => send(res, 200, metrics.contentType, await metrics.text()),
    '/health': (_req, res) => json(res, 200, { status: 'ok', storeId: store.nodeId, uptimeMs: Date.now() - store.startedAtMs }),
    '/ready': (_req, res) => {
      const r = readiness(store, keys, o.maxApplyLag);
      json(res, r.ready ? 200 : 503, r.ready ? { status: 'ready' } : { status: 'not ready', reasons: r.reasons });
    },
    '/api/status': (_req, res) => json(res, 200, storeStatus(store, ctx())),
    '/api/cluster': async (_req, res) => json(res, 200, await cluster.get()),
    '/api/events': (req, res) => (req.method === 'HEAD' ? send(res, 200, 'text/event-stream', '') : events.add(req, res)),
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes[path];
    if (!route) return json(res, 404, { error: `no such endpoint: ${path}` });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return json(res, 405, { error: `${req.method ?? ''} not allowed` });
    }
    Promise.resolve()
      .then(() => route(req, res))
      .catch((e: unknown) => {
        if (!res.headersSent) json(res, 500, { error: (e as Error)?.message ?? String(e) });
        else res.destroy();
      });
  });
  // Scrapers and browsers keep connections alive; they must not keep a stopping store alive.
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  httpAddress = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  store.logger.info({ http: httpAddress }, `metrics and dashboard on http://${httpAddress}/`);

  let closed: Promise<void> | undefined;
  return {
    address: httpAddress,
    port: a.port,
    metrics,
    close() {
      closed ??= new Promise<void>((resolve) => {
        events.close();
        stopObserving();
        if (ownMetrics) metrics.detach();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/**
 * Parses a listen address "host:port" ("[::1]:9301" for IPv6). Port 0 is allowed: any free
 * port, reported back in the handle's address. Undefined when malformed.
 */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m || Number(m[3]) > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}
