// Benchmark of the durable log: append 256-byte entries and sync, in batches of 1 and of 100
// entries per sync, plus concurrent writers sharing syncs (group commit). Prints entries/s and
// the p50/p99 latency of sync().
//
//   node dist/bench/storage-append.js [--dir <path>] [--seconds <per case, default 3>]
//
// The data directory defaults to a fresh one under os.tmpdir() and is removed afterwards. Point
// --dir at the disk you care about: on tmpfs, fsync costs nothing and the numbers mean little.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Entry, EntryType } from '../src/raft/core/types.js';
import { LogStore } from '../src/storage/log-store.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    seconds: { type: 'string', default: '3' },
  },
});
const seconds = Number(values.seconds);
const ENTRY_BYTES = 256;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Result {
  name: string;
  entries: number;
  syncs: number;
  elapsedMs: number;
  latencies: number[];
}

function report(r: Result): void {
  const lat = [...r.latencies].sort((a, b) => a - b);
  const rate = (r.entries / r.elapsedMs) * 1000;
  console.log(
    `${r.name.padEnd(28)} ${rate.toFixed(0).padStart(9)} entries/s  ${((r.syncs / r.elapsedMs) * 1000).toFixed(0).padStart(6)} syncs/s` +
      `  sync p50 ${quantile(lat, 0.5).toFixed(2)} ms  p99 ${quantile(lat, 0.99).toFixed(2)} ms  (${r.syncs} syncs)`,
  );
}

const payload = new Uint8Array(ENTRY_BYTES);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 255;

/** One writer: append `batch` entries, await sync(), repeat. */
async function sequential(dir: string, batch: number): Promise<Result> {
  const log = await LogStore.open(dir);
  let next = 1;
  const latencies: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let syncs = 0;
  while (performance.now() < deadline) {
    const ents: Entry[] = [];
    for (let k = 0; k < batch; k++) ents.push({ index: next++, term: 1, type: EntryType.Normal, data: payload });
    log.append(ents);
    const s = performance.now();
    await log.sync();
    latencies.push(performance.now() - s);
    syncs++;
  }
  const elapsedMs = performance.now() - t0;
  await log.close();
  return { name: `batch ${batch} per sync`, entries: next - 1, syncs, elapsedMs, latencies };
}

/** `writers` concurrent writers, each appending one entry and awaiting sync(): syncs are shared. */
async function concurrent(dir: string, writers: number): Promise<Result> {
  const log = await LogStore.open(dir);
  let next = 1;
  const latencies: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const flushesBefore = log.stats().flushes;
  const writer = async (): Promise<void> => {
    while (performance.now() < deadline) {
      log.append([{ index: next++, term: 1, type: EntryType.Normal, data: payload }]);
      const s = performance.now();
      await log.sync();
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  const elapsedMs = performance.now() - t0;
  const syncs = log.stats().flushes - flushesBefore;
  await log.close();
  return { name: `${writers} writers x 1 (shared)`, entries: next - 1, syncs, elapsedMs, latencies };
}

const root = values.dir ?? mkdtempSync(join(tmpdir(), 'raftkv-bench-'));
console.log(`raftkv storage append benchmark: ${ENTRY_BYTES}-byte entries, ${seconds}s per case, data in ${root}`);
const made: string[] = [];
const sub = (prefix: string): string => {
  const d = mkdtempSync(join(root, prefix));
  made.push(d);
  return d;
};
try {
  report(await sequential(sub('b1-'), 1));
  report(await sequential(sub('b100-'), 100));
  report(await concurrent(sub('c16-'), 16));
} finally {
  for (const d of made) rmSync(d, { recursive: true, force: true });
  if (!values.dir) rmSync(root, { recursive: true, force: true });
}
