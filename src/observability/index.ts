// Observability of a KV store: Prometheus metrics, health and readiness, a status API, an event
// stream and a live dashboard, served over HTTP by startHttpServer().

export { ClusterView, type ClusterEvent, type ClusterRegion, type ClusterSnapshot, type StoreSummary } from './cluster-view.js';
export { dashboardPage } from './dashboard.js';
export { type HttpServerHandle, type HttpServerOptions, parseListenAddress, startHttpServer } from './http-server.js';
export { LatencyWindow, type WindowStats } from './latency-window.js';
export { observeOps } from './op-observer.js';
export { type PeerLag, type RegionView } from './region-status.js';
export { StoreMetrics, type StoreMetricsOptions } from './store-metrics.js';
export { type Readiness, type StoreStatus, readiness, storeStatus } from './store-status.js';
export { timedStorage } from './timed-storage.js';
