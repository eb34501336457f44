// A Raft node process: one group with the example register state machine on durable storage,
// served over TCP. Used by the multi-process tests and benchmarks (the KV store gets its own).
//
//   node dist/src/server/node-main.js --id n1 --listen 127.0.0.1:7001 \
//     --peers n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003 --data ./data/n1
//
// Prints one line `READY {"id":...,"port":...}` on stdout once serving.

import { parseArgs } from 'node:util';
import { RegisterStateMachine } from '../examples/register-sm.js';
import { RaftNode } from '../raft/runtime/raft-node.js';
import { DiskStorage } from '../storage/disk-storage.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import { FaultFile, withFaults, withSlowSync } from './fault-injection.js';
import { RaftServer, serverStateMachine } from './raft-server.js';

function fail(msg: string): never {
  process.stderr.write(`raftkv node: ${msg}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    listen: { type: 'string' },
    peers: { type: 'string' },
    data: { type: 'string' },
    'tick-ms': { type: 'string', default: '50' },
    'election-timeout-ms': { type: 'string', default: '500' },
    'snapshot-every': { type: 'string', default: '0' },
    'snapshot-margin': { type: 'string', default: '1000' },
    join: { type: 'boolean', default: false },
    'unsafe-leader-local-reads': { type: 'boolean', default: false },
    'initial-voters': { type: 'string' },
    'max-pending-requests': { type: 'string', default: '4096' },
    'max-pending-bytes': { type: 'string', default: String(64 * 1024 * 1024) },
    'max-entry-bytes': { type: 'string', default: String(4 * 1024 * 1024) },
    'retry-cache-expiry-ms': { type: 'string', default: '60000' },
  },
});
const id = values.id ?? fail('--id is required');
const listen = values.listen ?? fail('--listen host:port is required');
const dataDir = values.data ?? fail('--data dir is required');
const peers = new Map<string, { host: string; port: number }>();
for (const p of (values.peers ?? '').split(',').filter(Boolean)) {
  const m = /^([^=]+)=([^:]+):(\d+)$/.exec(p) ?? fail(`bad --peers item '${p}' (want id=host:port)`);
  peers.set(m[1]!, { host: m[2]!, port: Number(m[3]) });
}
const [host, portText] = listen.split(':');
const port = Number(portText);
if (!host || !Number.isInteger(port)) fail(`bad --listen '${listen}' (want host:port)`);

const tcp = new TcpTransport({ nodeId: id, host, port });
// Fault tests (`npm run verify`): RAFTKV_FAULTS_FILE names a JSON file {"blocked": ["a->b", ...]}
// that this node polls; Raft messages on a blocked link are dropped in both directions' sense
// (a->b blocks what a sends to b). Client requests are not affected.
const faultsFile = process.env['RAFTKV_FAULTS_FILE'];
const faults = faultsFile ? new FaultFile(faultsFile) : undefined;
const transport = faults ? withFaults(tcp, id, faults) : tcp;
for (const [pid, a] of peers) if (pid !== id) transport.setPeer(pid, a.host, a.port);
let storage: DiskStorage;
try {
  storage = await DiskStorage.open(dataDir, { onRepair: (m) => process.stderr.write(`raftkv node ${id}: repaired: ${m}\n`) });
  if (faults) storage = withSlowSync(storage, id, faults);
} catch (err) {
  fail(`cannot open ${dataDir}: ${(err as Error).message}`);
}
const sm = serverStateMachine(new RegisterStateMachine(), Number(values['retry-cache-expiry-ms']));
const addr = await transport.listen();
const node = await RaftNode.start<Uint8Array>({
  id,
  storage,
  stateMachine: sm,
  transport,
  // A new group's voters: --initial-voters, else every peer. With --join the node starts empty
  // and learns the membership from the leader once it is added.
  ...(values.join ? {} : { initialVoters: values['initial-voters'] ? values['initial-voters'].split(',') : [...peers.keys()] }),
  tickMs: Number(values['tick-ms']),
  electionTimeoutMs: Number(values['election-timeout-ms']),
  heartbeatIntervalMs: Number(values['tick-ms']),
  snapshotEveryEntries: Number(values['snapshot-every']),
  snapshotMarginEntries: Number(values['snapshot-margin']),
  maxEntryBytes: Number(values['max-entry-bytes']),
});
// Fault tests: RAFTKV_FAULT_DROP_REPLIES=3,7 drops the first reply to call ids 3 and 7.
const dropOnce = new Set((process.env['RAFTKV_FAULT_DROP_REPLIES'] ?? '').split(',').filter(Boolean).map(Number));
const server = new RaftServer(transport, {
  maxPendingRequests: Number(values['max-pending-requests']),
  maxPendingBytes: Number(values['max-pending-bytes']),
  ...(dropOnce.size > 0 ? { dropReply: (_c: string, callId: number) => dropOnce.delete(callId) } : {}),
  unsafeLeaderLocalReads: values['unsafe-leader-local-reads'],
});
server.addGroup(node, sm);
process.stdout.write(`READY ${JSON.stringify({ id, host: addr.host, port: addr.port, pid: process.pid })}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await node.stop();
  await tcp.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
