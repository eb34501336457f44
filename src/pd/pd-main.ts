// A placement driver node running on its own, with no regions (TiKV's pd-server): one replica
// of the PD Raft group. Stores report to it (`store-main --join pd1=host:port,...`), clients
// may ask it for the route table (KvTag.Regions), and the CLI's `admin pd` talks to it.
//
//   node dist/src/pd/pd-main.js --id pd1 --listen 127.0.0.1:2379 \
//     --peers pd1=127.0.0.1:2379,pd2=127.0.0.1:2380,pd3=127.0.0.1:2381 --data ./data/pd1 \
//     [--schedule-interval-ms 1000] [--split-max-keys N] [--store-down-after-ms N] ...
//
// Prints one line `READY {json}` on stdout once serving; a bad flag ends the process with exit
// code 2 and one line on stderr. SIGTERM/SIGINT stop it.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAddress } from '../config/address.js';
import { type LogLevel, createLogger, transportLogger } from '../log/logger.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import { PdServer } from './pd-server.js';

function fail(msg: string): never {
  process.stderr.write(`raftkv pd: ${msg}\n`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  values = parseArgs({
    options: {
      id: { type: 'string' },
      listen: { type: 'string' },
      /** The PD group's nodes: "pd1=host:port,pd2=host:port,...". */
      peers: { type: 'string' },
      data: { type: 'string' },
      cluster: { type: 'string', default: 'raftkv' },
      'tick-ms': { type: 'string', default: '100' },
      'election-timeout-ms': { type: 'string', default: '1000' },
      'schedule-interval-ms': { type: 'string', default: '1000' },
      'pd-warmup-ms': { type: 'string', default: '3000' },
      'operator-timeout-ms': { type: 'string', default: '60000' },
      'split-max-keys': { type: 'string', default: '100000' },
      'split-max-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
      'store-down-after-ms': { type: 'string', default: '1800000' },
      replicas: { type: 'string', default: '3' },
      'log-level': { type: 'string', default: 'info' },
      'log-format': { type: 'string', default: 'json' },
    },
  }).values;
} catch (e) {
  fail((e as Error).message);
}

const str = (name: string): string | undefined => values[name] as string | undefined;
const int = (name: string, min = 0): number => {
  const v = Number(str(name));
  if (!Number.isSafeInteger(v) || v < min) fail(`--${name} must be an integer >= ${min}, got '${String(str(name))}'`);
  return v;
};
const id = str('id') ?? fail('--id is required (this PD node, e.g. pd1)');
const listenText = str('listen') ?? fail('--listen host:port is required');
const listen = parseAddress(listenText) ?? fail(`bad --listen '${listenText}' (want host:port)`);
const peers = (str('peers') ?? `${id}=${listenText}`)
  .split(',')
  .filter(Boolean)
  .map((p) => {
    const m = /^([^=]+)=(.+)$/.exec(p) ?? fail(`bad --peers item '${p}' (want id=host:port)`);
    const a = parseAddress(m[2]!) ?? fail(`bad address of PD node ${m[1]}: '${m[2]}' (want host:port)`);
    return { id: m[1]!, ...a };
  });
if (!peers.some((p) => p.id === id)) fail(`--peers must include this node '${id}'`);
const dataDir = resolve(str('data') ?? fail('--data dir is required'));
const level = str('log-level') as LogLevel;
if (!['debug', 'info', 'warn', 'error'].includes(level)) fail(`--log-level must be debug, info, warn or error, got '${level}'`);
const format = str('log-format');
if (format !== 'json' && format !== 'pretty') fail(`--log-format must be json or pretty, got '${format}'`);
const tickMs = int('tick-ms', 1);

const logger = createLogger({ node: id, level, format });
const transport = new TcpTransport({
  nodeId: id,
  host: listen.host,
  port: listen.port,
  cluster: str('cluster')!,
  logger: transportLogger(logger),
});
for (const p of peers) if (p.id !== id) transport.setPeer(p.id, p.host, p.port);

let pd: PdServer;
let address: string;
try {
  pd = await PdServer.start({
    nodeId: id,
    dataDir,
    transport,
    voters: peers.map((p) => p.id),
    serveRoutes: true,
    tickMs,
    heartbeatIntervalMs: tickMs,
    electionTimeoutMs: int('election-timeout-ms', 1),
    scheduleIntervalMs: int('schedule-interval-ms', 1),
    warmupMs: int('pd-warmup-ms'),
    operatorTimeoutMs: int('operator-timeout-ms', 1),
    scheduler: {
      splitMaxKeys: int('split-max-keys'),
      splitMaxBytes: int('split-max-bytes'),
      storeDownAfterMs: int('store-down-after-ms', 1),
      replicas: int('replicas', 1),
    },
    logger,
  });
  const a = await transport.listen();
  address = `${a.host}:${a.port}`;
} catch (e) {
  fail(`cannot start: ${(e as Error).message}`);
}
logger.info({ address, peers: peers.map((p) => p.id) }, 'placement driver node serving (no regions)');
process.stdout.write(`READY ${JSON.stringify({ id, address, pid: process.pid, role: 'pd' })}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await pd.stop();
  await transport.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
