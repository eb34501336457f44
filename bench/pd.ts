// Benchmark of the placement driver's leader: how many store heartbeats per second it takes,
// and how long one scheduling round takes, for a cluster of S stores and R regions (3 replicas
// each, so every store reports about 3R/S replicas per heartbeat and leads about R/S of them).
// PD runs as one voter on a real disk log (its map changes go through Raft and fsync); the
// heartbeats are handed to it in-process, so the numbers are PD's own cost, without TCP.
//
//   node dist/bench/pd.js [--stores 3] [--regions 1000] [--seconds 5] [--no-record]
//
// Heartbeats in steady state change nothing in the map (the regions were registered before the
// measurement), like a healthy cluster between splits and moves.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toWireKey } from '../src/kv/protocol.js';
import type { RegionMeta } from '../src/kv/region.js';
import { decodeEnvelope, encodeEnvelope } from '../src/raft/runtime/rpc-router.js';
import { MemoryHub } from '../src/transport/memory-transport.js';
import { DEFAULT_SCHEDULER_CONFIG } from '../src/pd/cluster-view.js';
import { type HostedRegion, PdTag, type StoreHeartbeat } from '../src/pd/pd-protocol.js';
import { PdServer } from '../src/pd/pd-server.js';
import { runSchedulers } from '../src/pd/schedulers.js';
import { type Row, appendToBenchmarks, histogram, printTable } from './report.js';

const { values } = parseArgs({
  options: {
    stores: { type: 'string', default: '3' },
    regions: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '5' },
    'no-record': { type: 'boolean', default: false },
  },
});
const S = Number(values.stores);
const R = Number(values.regions);
const SECONDS = Number(values.seconds);
if (!(S >= 3 && R >= 1 && SECONDS > 0)) throw new Error('want --stores >= 3, --regions >= 1, --seconds > 0');

const enc = new TextEncoder();
const storeIds = Array.from({ length: S }, (_, i) => `s${i + 1}`);
const address = (id: string): string => `127.0.0.1:${7000 + Number(id.slice(1))}`;
const key = (i: number): Uint8Array => (i === 0 ? new Uint8Array(0) : enc.encode(`k${String(i).padStart(7, '0')}`));
const regions: RegionMeta[] = Array.from({ length: R }, (_, i) => ({
  id: `r${i + 1}`,
  startKey: key(i),
  endKey: i === R - 1 ? new Uint8Array(0) : key(i + 1),
  epoch: { confVer: 3, version: 2 },
  voters: [storeIds[i % S]!, storeIds[(i + 1) % S]!, storeIds[(i + 2) % S]!],
  learners: [],
}));

/** What store `s` reports: every replica it hosts, with stats for the regions it leads (the first voter). */
function heartbeatOf(s: string): StoreHeartbeat {
  const hosted: HostedRegion[] = [];
  for (const m of regions) {
    if (!m.voters.includes(s)) continue;
    const leading = m.voters[0] === s;
    const brief = { id: m.id, startKey: toWireKey(m.startKey), endKey: toWireKey(m.endKey), epoch: m.epoch };
    const info = leading ? { ...brief, voters: m.voters.map((id) => ({ id, address: address(id) })), learners: [] } : brief;
    hosted.push(leading ? { region: info, leading, keys: 5000, bytes: 1 << 20, caughtUpLearners: [], downPeers: [], pendingPeers: [], readsPerSec: 10, writesPerSec: 5, readBytesPerSec: 2560, writeBytesPerSec: 1280 } : { region: info, leading, readsPerSec: 0, writesPerSec: 0, readBytesPerSec: 0, writeBytesPerSec: 0 });
  }
  return { storeId: s, address: address(s), capacityBytes: 100 * 2 ** 30, availableBytes: 50 * 2 ** 30, regions: hosted };
}

const dir = mkdtempSync(join(tmpdir(), 'raftkv-bench-pd-'));
const hub = new MemoryHub();
const pd = await PdServer.start({
  nodeId: 'pd1',
  dataDir: dir,
  transport: hub.endpoint({ nodeId: 'pd1' }),
  voters: ['pd1'],
  // No scheduling during the heartbeat measurement (its round is timed separately below).
  warmupMs: 3_600_000,
  scheduleIntervalMs: 3_600_000,
  electionTimeoutMs: 300,
  tickMs: 50,
  heartbeatIntervalMs: 50,
});
try {
  while (!pd.node.isLeader) await new Promise((r) => setTimeout(r, 20));
  const beats = storeIds.map((s) => encodeEnvelope(PdTag.Heartbeat, heartbeatOf(s)));
  const send = async (raw: Uint8Array): Promise<void> => {
    const res = decodeEnvelope<{ code?: string; message?: string }>(await pd.request(raw));
    if (res.tag !== 0) throw new Error(`heartbeat refused: ${res.header.code}: ${res.header.message}`);
  };
  // Register the stores and regions (each a proposal through PD's log), then measure.
  let t = performance.now();
  for (const b of beats) await send(b);
  const registerMs = performance.now() - t;
  if (pd.sm.regions.size !== R) throw new Error(`PD knows ${pd.sm.regions.size} regions, want ${R}`);
  console.log(`registered ${S} stores and ${R} regions in ${registerMs.toFixed(0)} ms; each heartbeat: ${((beats.reduce((n, b) => n + b.byteLength, 0) / S) / 1024).toFixed(0)} KiB, ${heartbeatOf('s1').regions.length} replicas`);

  // One caller, back to back. A steady-state heartbeat does no IO (it resolves in microtasks), so
  // the loop yields to the event loop between calls (PD's Raft ticks keep running).
  const timed = async (seconds: number, record: boolean): Promise<{ ops: number; seconds: number; hist: ReturnType<typeof histogram> }> => {
    const hist = histogram();
    let n = 0;
    const t1 = performance.now();
    while (performance.now() - t1 < seconds * 1000) {
      const t0 = process.hrtime.bigint();
      await send(beats[n % S]!);
      if (record) hist.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
      n++;
      await new Promise((r) => setImmediate(r));
    }
    return { ops: n, seconds: (performance.now() - t1) / 1000, hist };
  };
  await timed(1, false);
  const hb = await timed(SECONDS, true);

  // A round as the leader runs it: the view built from the map and the stats, then the schedulers
  // (the regions are balanced, so it decides nothing: the cost of looking).
  const rounds = histogram();
  let ops = 0;
  t = performance.now();
  while (performance.now() - t < SECONDS * 1000) {
    const t0 = process.hrtime.bigint();
    runSchedulers(pd.leader.view(), DEFAULT_SCHEDULER_CONFIG);
    rounds.recordValue(Number((process.hrtime.bigint() - t0) / 1000n));
    ops++;
  }
  const rows: Row[] = [
    { workload: `heartbeat (${S} stores, ${R} regions)`, concurrency: 1, ops: hb.ops, seconds: hb.seconds, hist: hb.hist, errors: 0 },
    { workload: `scheduling round (${R} regions)`, concurrency: 1, ops, seconds: (performance.now() - t) / 1000, hist: rounds, errors: 0 },
  ];
  printTable(rows);
  if (!values['no-record']) {
    appendToBenchmarks('bench:pd', `npm run bench:pd -- --stores ${S} --regions ${R} --seconds ${SECONDS}`, `PD leader alone (1 voter, disk log with fsync), heartbeats handed in-process, ${S} stores x ${R} regions x 3 replicas, steady state (no map change)`, rows);
  }
} finally {
  await pd.stop();
  rmSync(dir, { recursive: true, force: true });
}
