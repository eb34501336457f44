// A KV store process. Either from a YAML file:
//
//   node dist/src/kv/store/store-main.js --config node1.yaml
//
// or from flags (tests, benchmarks, the verifier):
//
//   node dist/src/kv/store/store-main.js --id s1 --listen 127.0.0.1:7201 \
//     --peers s1=127.0.0.1:7201,s2=127.0.0.1:7202,s3=127.0.0.1:7203 --data ./data/s1 \
//     [--engine lmdb|memory] [--split-keys g,p] [--tick-ms 50] [--election-timeout-ms 500] ...
//     [--metrics-listen 127.0.0.1:9301]   (metrics, health, status API and dashboard over HTTP)
//     [--pd [--pd-voters s1,s2,s3] [--split-max-keys N] ...]   (the placement driver, scheduling on)
//     [--join s1=127.0.0.1:7201,...]   (a new store joining through PD; it starts with no regions;
//                                        without --id it gets one from PD, kept in <data>/store-id)
//     [--pd-endpoints pd1=127.0.0.1:2379,...]   (PD runs in its own processes, pd-main.ts: this
//                                        store reports to them and hosts no PD replica)
//
// Prints one line `READY {json}` on stdout once serving; errors in the configuration end the
// process with exit code 2 and one line on stderr naming the problem.

import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { writeFileDurableSync } from '../../storage/fs-util.js';
import { join as joinPath, resolve } from 'node:path';
import { pdCall } from '../../pd/pd-client.js';
import { PdTag } from '../../pd/pd-protocol.js';
import { pathToFileURL } from 'node:url';
import { type LogLevel, createLogger, transportLogger } from '../../log/logger.js';
import type { NodeCallback } from '../kv-state-machine.js';
import { parseArgs } from 'node:util';
import { ConfigError, loadStoreConfig } from '../../config/load.js';
import type { StoreConfig } from '../../config/store-config.js';
import { FaultFile, withFaults, withSlowSync } from '../../server/fault-injection.js';
import { TcpTransport } from '../../transport/tcp-transport.js';
import { KvStore, type KvStoreOptions, type StaticRegion } from './kv-store.js';
import { StoreMetrics, parseListenAddress, startHttpServer } from '../../observability/index.js';

function fail(msg: string): never {
  process.stderr.write(`raftkv store: ${msg}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    id: { type: 'string' },
    listen: { type: 'string' },
    peers: { type: 'string' },
    data: { type: 'string' },
    engine: { type: 'string', default: 'lmdb' },
    'split-keys': { type: 'string', default: '' },
    'tick-ms': { type: 'string', default: '50' },
    'election-timeout-ms': { type: 'string', default: '500' },
    'snapshot-every': { type: 'string', default: '100000' },
    'snapshot-margin': { type: 'string', default: '1000' },
    'split-min-keys': { type: 'string', default: '2' },
    'lease-reads': { type: 'boolean', default: false },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    /** HTTP for /metrics, /health, /ready, /api/* and the dashboard ("host:port"; port 0 = any). Overrides metrics.listen. */
    'metrics-listen': { type: 'string' },
    /** 'false' turns off check-quorum (a cut-off leader then keeps believing it leads: fault tests only). */
    'check-quorum': { type: 'string', default: 'true' },
    'max-pending-requests': { type: 'string', default: '4096' },
    'unsafe-leader-local-reads': { type: 'boolean', default: false },
    /** An ES module whose exported functions become nodeExecute callbacks (same on every store). */
    callbacks: { type: 'string' },
    /** Run the placement driver: its group on --pd-voters (default: every peer), scheduling on. */
    pd: { type: 'boolean', default: false },
    'pd-voters': { type: 'string' },
    /** Join a running cluster through its PD ("s1=host:port,..." stores hosting PD): no static regions, PD moves replicas here. */
    join: { type: 'string' },
    /** PD nodes running on their own (pd-main.ts), "pd1=host:port,...": report to them, host no PD. */
    'pd-endpoints': { type: 'string' },
    'pd-heartbeat-ms': { type: 'string', default: '1000' },
    'schedule-interval-ms': { type: 'string', default: '1000' },
    'pd-warmup-ms': { type: 'string', default: '3000' },
    'split-max-keys': { type: 'string', default: '100000' },
    'split-max-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
    'store-down-after-ms': { type: 'string', default: '1800000' },
    'operator-timeout-ms': { type: 'string', default: '60000' },
  },
});

const enc = new TextEncoder();
const hostPort = (s: string, what: string): { host: string; port: number } => {
  const m = /^(.+):(\d+)$/.exec(s) ?? fail(`bad ${what} '${s}' (want host:port)`);
  return { host: m[1]!, port: Number(m[2]) };
};
const int = (name: keyof typeof values): number => {
  const v = Number(values[name]);
  if (!Number.isSafeInteger(v) || v < 0) fail(`--${name} must be a non-negative integer, got '${String(values[name])}'`);
  return v;
};

/** Regions from split keys: ['g','p'] -> [-inf,g) [g,p) [p,+inf) with ids 1, 2, 3. */
function regionsFromSplitKeys(keys: string[]): StaticRegion[] {
  const bounds = ['', ...keys, ''];
  return keys
    .concat([''])
    .map((_, i) => ({ id: String(i + 1), startKey: enc.encode(bounds[i]!), endKey: enc.encode(bounds[i + 1]!) }));
}

interface MainConfig {
  opts: Omit<KvStoreOptions, 'transport'>;
  listen: { host: string; port: number };
  cluster: string;
  log?: { level: string; format: string };
  /** config metrics.listen */
  metricsListen?: string | undefined;
}

async function fromConfig(path: string): Promise<MainConfig> {
  let c: StoreConfig;
  try {
    c = await loadStoreConfig(path);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  return {
    listen: hostPort(c.listen, 'listen'),
    cluster: c.cluster,
    log: c.log,
    metricsListen: c.metrics.listen,
    opts: {
      nodeId: c.nodeId,
      dataDir: c.dataDir,
      engine: c.engine,
      peers: c.peers.map((p) => ({ id: p.id, ...hostPort(p.address, `address of peer ${p.id}`) })),
      regions: c.regions.map((r) => ({ id: r.id, startKey: enc.encode(r.startKey), endKey: enc.encode(r.endKey) })),
      raft: c.raft,
      leaseReads: c.raft.leaseReads,
      server: c.server,
      limits: { maxKeyBytes: c.kv.maxKeyBytes, maxValueBytes: c.kv.maxValueBytes },
      splitMinKeys: c.kv.splitMinKeys,
      ...(c.pd.enabled || c.pd.join || c.pd.endpoints
        ? {
            pd: {
              voters: c.pd.join || c.pd.endpoints ? [] : (c.pd.voters ?? c.peers.map((p) => p.id)),
              ...(c.pd.join || c.pd.endpoints ? { endpoints: (c.pd.join ?? c.pd.endpoints)!.map((p) => ({ id: p.id, address: p.address })) } : {}),
              heartbeatMs: c.pd.heartbeatMs,
              scheduleIntervalMs: c.pd.scheduleIntervalMs,
              warmupMs: c.pd.warmupMs,
              operatorTimeoutMs: c.pd.operatorTimeoutMs,
              scheduler: {
                splitMaxKeys: c.pd.splitMaxKeys,
                splitMaxBytes: c.pd.splitMaxBytes,
                storeDownAfterMs: c.pd.storeDownAfterMs,
                leaderBalanceTolerance: c.pd.leaderBalanceTolerance,
                replicaBalanceTolerance: c.pd.replicaBalanceTolerance,
                maxConcurrentMoves: c.pd.maxConcurrentMoves,
              },
            },
          }
        : {}),
      ...(c.pd.join ? { regions: [] } : {}),
    },
  };
}

function endpointList(text: string, flag: string): Array<{ id: string; address: string }> {
  return text
    .split(',')
    .filter(Boolean)
    .map((p) => {
      const m = /^([^=]+)=(.+)$/.exec(p) ?? fail(`bad ${flag} item '${p}' (want id=host:port of a PD node)`);
      hostPort(m[2]!, `${flag} address of ${m[1]}`);
      return { id: m[1]!, address: m[2]! };
    });
}

/**
 * A store joining without --id gets one from PD the first time and keeps it in <data>/store-id
 * (written before the store starts: a restart comes back as the same store).
 */
async function storeId(): Promise<string> {
  if (values.id) return values.id;
  if (!values.join) fail('--id is required (or --config file.yaml; or --join, to get an id from the placement driver)');
  const dir = resolve(values.data ?? fail('--data dir is required'));
  const file = joinPath(dir, 'store-id');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (!id) fail(`${file} is empty`);
    return id;
  }
  // Replicas on disk belong to the store that wrote them: never open them under a new id.
  if (existsSync(joinPath(dir, 'regions')) && readdirSync(joinPath(dir, 'regions')).length > 0) {
    fail(`${dir} holds regions but no store-id file: start it with the --id it had`);
  }
  let id: string;
  try {
    id = (await pdCall<{ id: string }>({ addresses: endpointList(values.join, '--join').map((e) => e.address), timeoutMs: 30_000, retryBusy: true }, PdTag.AllocId, { kind: 'store' })).id;
  } catch (e) {
    fail(`cannot get a store id from the placement driver: ${(e as Error).message}`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileDurableSync(file, `${id}\n`);
  return id;
}

function fromFlags(id: string): MainConfig {
  const listen = hostPort(values.listen ?? fail('--listen host:port is required'), '--listen');
  const peers = (values.peers ?? `${id}=${values.listen}`)
    .split(',')
    .filter(Boolean)
    .map((p) => {
      const m = /^([^=]+)=(.+)$/.exec(p) ?? fail(`bad --peers item '${p}' (want id=host:port)`);
      return { id: m[1]!, ...hostPort(m[2]!, `address of peer ${m[1]}`) };
    });
  const join = values.join ? endpointList(values.join, '--join') : undefined;
  const pdEndpoints = values['pd-endpoints'] ? endpointList(values['pd-endpoints'], '--pd-endpoints') : undefined;
  if (join && pdEndpoints) fail('--join and --pd-endpoints do not go together (--join: a new store with no regions; --pd-endpoints: a first store with the static regions)');
  if (pdEndpoints && values['pd-voters']) fail('--pd-voters does not go with --pd-endpoints (PD then runs in processes of its own, not in stores)');
  const endpoints = join ?? pdEndpoints;
  const pdOn = values.pd || endpoints !== undefined;
  const engine = values.engine === 'memory' || values.engine === 'lmdb' ? values.engine : fail(`--engine must be lmdb or memory, got '${values.engine}'`);
  const tickMs = int('tick-ms');
  return {
    listen,
    cluster: 'raftkv',
    opts: {
      nodeId: id,
      dataDir: resolve(values.data ?? fail('--data dir is required')),
      engine,
      peers,
      regions: join ? [] : regionsFromSplitKeys((values['split-keys'] ?? '').split(',').filter(Boolean)),
      ...(pdOn
        ? {
            pd: {
              voters: values['pd-voters'] ? values['pd-voters'].split(',').filter(Boolean) : endpoints ? [] : peers.map((p) => p.id),
              ...(endpoints ? { endpoints } : {}),
              heartbeatMs: int('pd-heartbeat-ms'),
              scheduleIntervalMs: int('schedule-interval-ms'),
              warmupMs: int('pd-warmup-ms'),
              operatorTimeoutMs: int('operator-timeout-ms'),
              scheduler: { splitMaxKeys: int('split-max-keys'), splitMaxBytes: int('split-max-bytes'), storeDownAfterMs: int('store-down-after-ms') },
            },
          }
        : {}),
      raft: {
        tickMs,
        electionTimeoutMs: int('election-timeout-ms'),
        heartbeatIntervalMs: tickMs,
        snapshotEveryEntries: int('snapshot-every'),
        snapshotMarginEntries: int('snapshot-margin'),
        checkQuorum: values['check-quorum'] !== 'false',
      },
      leaseReads: values['lease-reads'],
      server: { maxPendingRequests: int('max-pending-requests'), unsafeLeaderLocalReads: values['unsafe-leader-local-reads'] },
      splitMinKeys: int('split-min-keys'),
    },
  };
}

const cfg: MainConfig = values.config ? await fromConfig(values.config) : fromFlags(await storeId());
const logLevel = (values['log-level'] ?? cfg.log?.level ?? 'info') as LogLevel;
if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) fail(`--log-level must be debug, info, warn or error, got '${logLevel}'`);
const logFormat = values['log-format'] ?? cfg.log?.format ?? 'json';
if (logFormat !== 'json' && logFormat !== 'pretty') fail(`--log-format must be json or pretty, got '${logFormat}'`);
const logger = createLogger({ node: cfg.opts.nodeId, level: logLevel, format: logFormat });
const tcp = new TcpTransport({
  nodeId: cfg.opts.nodeId,
  host: cfg.listen.host,
  port: cfg.listen.port,
  cluster: cfg.cluster,
  logger: transportLogger(logger),
});
// Fault tests: RAFTKV_FAULTS_FILE names a JSON file of blocked links and slow fsyncs.
const faultsFile = process.env['RAFTKV_FAULTS_FILE'];
const faults = faultsFile ? new FaultFile(faultsFile) : undefined;
const transport = faults ? withFaults(tcp, cfg.opts.nodeId, faults) : tcp;

let callbacks: Record<string, NodeCallback> = {};
if (values.callbacks) {
  try {
    const mod = (await import(pathToFileURL(resolve(values.callbacks)).href)) as Record<string, unknown>;
    callbacks = Object.fromEntries(Object.entries(mod).filter((e): e is [string, NodeCallback] => typeof e[1] === 'function'));
  } catch (e) {
    fail(`cannot load --callbacks ${values.callbacks}: ${(e as Error).message}`);
  }
}
// Observability (src/observability): the metrics exist before the store so fsyncs are timed.
const metricsListen = values['metrics-listen'] ?? cfg.metricsListen;
const metricsAt = metricsListen === undefined ? undefined : (parseListenAddress(metricsListen) ?? fail(`bad --metrics-listen '${metricsListen}' (want host:port)`));
const metrics = metricsAt ? new StoreMetrics(cfg.opts.nodeId) : undefined;
let store: KvStore;
try {
  store = await KvStore.start({
    ...cfg.opts,
    callbacks,
    transport,
    logger,
    ...(faults || metrics
      ? {
          wrapStorage: (s) => {
            const slow = faults ? withSlowSync(s, cfg.opts.nodeId, faults) : s;
            return metrics ? metrics.wrapStorage(slow) : slow;
          },
        }
      : {}),
  });
} catch (e) {
  fail(`cannot start: ${(e as Error).message}`);
}
let metricsAddress: string | undefined;
if (metrics && metricsAt) {
  try {
    metricsAddress = (await startHttpServer(store, { ...metricsAt, metrics: metrics.attach(store), clusterName: cfg.cluster })).address;
  } catch (e) {
    await store.stop();
    fail(`cannot serve metrics on ${metricsListen}: ${(e as Error).message}`);
  }
}
process.stdout.write(`READY ${JSON.stringify({ id: store.nodeId, address: store.listenAddress, pid: process.pid, regions: store.regions.size, ...(metricsAddress ? { metricsAddress } : {}) })}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  // Graceful: leadership handed away, in-flight requests finished, storage flushed and closed.
  await store.shutdown({ timeoutMs: 10_000 });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
