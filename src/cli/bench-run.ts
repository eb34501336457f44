// The measuring part of `raftkv bench`: the workloads of bench/kv.ts (put; linearizable get;
// a 90/10 get/put mix; uniform random keys; closed-loop callers, one request outstanding
// each) against an already running cluster, latencies in an HDR histogram (microseconds).

import * as hdr from 'hdr-histogram-js';
import { type KvClient, createClient } from '../kv/client/index.js';

export type Workload = 'put' | 'get' | 'mix';

export interface BenchSetup {
  endpoints: string[];
  cluster: string;
  timeoutMs: number;
  keys: number;
  valueBytes: number;
  prefix: string;
  batching: boolean;
}

export interface LevelResult {
  workload: Workload;
  concurrency: number;
  ops: number;
  errors: number;
  /** The first error seen, for the report. */
  firstError?: unknown;
  seconds: number;
  hist: hdr.Histogram;
}

/** What a progress display is told while a level runs (every 100 ms). */
export interface Tick {
  /** 'warmup' then 'measure'. */
  phase: 'warmup' | 'measure';
  /** Seconds since the level started. */
  elapsed: number;
  ops: number;
  errors: number;
  /** Measured ops per second so far (0 during warm-up). */
  rate: number;
}

export function histogram(): hdr.Histogram {
  // Microseconds, 1 µs .. 60 s, 3 significant digits (as bench/report.ts).
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

export const keyOf = (prefix: string, i: number): string => `${prefix}k${String(i).padStart(7, '0')}`;

export function newClient(s: BenchSetup): KvClient {
  return createClient({ endpoints: s.endpoints, cluster: s.cluster, timeoutMs: s.timeoutMs, attemptTimeoutMs: Math.min(3000, s.timeoutMs), batching: s.batching ? {} : false });
}

/** Writes every key once (gets then read existing values); `onProgress` gets the keys written. */
export async function preload(s: BenchSetup, onProgress: (done: number) => void): Promise<void> {
  const c = newClient(s);
  const value = 'v'.repeat(s.valueBytes);
  try {
    for (let i = 0; i < s.keys; i += 500) {
      const n = Math.min(500, s.keys - i);
      await c.putAll(Array.from({ length: n }, (_, j) => [keyOf(s.prefix, i + j), value] as const));
      onProgress(i + n);
    }
  } finally {
    await c.close();
  }
}

/** One workload at one concurrency: warm-up, then `seconds` measured. */
export async function runLevel(s: BenchSetup, w: Workload, concurrency: number, warmupS: number, seconds: number, onTick: (t: Tick) => void): Promise<LevelResult> {
  const c = newClient(s);
  const hist = histogram();
  const value = 'v'.repeat(s.valueBytes);
  const r: LevelResult = { workload: w, concurrency, ops: 0, errors: 0, seconds: 0, hist };
  let measuring = false;
  let stop = false;
  let measuredFrom = 0;
  // A fixed-seed LCG: the same key sequence on every run, cheap enough not to skew latencies.
  let seed = 12345 + concurrency;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const one = (): Promise<unknown> => {
    const key = keyOf(s.prefix, rnd() % s.keys);
    if (w === 'put' || (w === 'mix' && rnd() % 10 === 0)) return c.put(key, value);
    return c.get(key);
  };
  const loops = Array.from({ length: concurrency }, async () => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      try {
        await one();
        if (measuring) {
          hist.recordValue(Math.max(1, Number((process.hrtime.bigint() - t0) / 1000n)));
          r.ops++;
        }
      } catch (e) {
        if (measuring) r.errors++;
        r.firstError ??= e;
        // A cluster that refuses everything must not turn this loop into a busy spin.
        await new Promise((res) => setTimeout(res, 10));
      }
    }
  });
  const started = Date.now();
  const ticker = setInterval(() => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = measuring ? r.ops / Math.max(0.001, (Date.now() - measuredFrom) / 1000) : 0;
    onTick({ phase: measuring ? 'measure' : 'warmup', elapsed, ops: r.ops, errors: r.errors, rate });
  }, 100);
  try {
    await sleep(warmupS * 1000);
    measuring = true;
    measuredFrom = Date.now();
    await sleep(seconds * 1000);
    measuring = false;
    r.seconds = (Date.now() - measuredFrom) / 1000;
    stop = true;
    await Promise.all(loops);
  } finally {
    stop = true;
    clearInterval(ticker);
    await c.close();
  }
  return r;
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** Latency summary in milliseconds. */
export function latencyMs(h: hdr.Histogram): { mean: number; p50: number; p90: number; p99: number; p999: number; max: number } {
  const ms = (us: number): number => Math.round(us) / 1000;
  if (h.totalCount === 0) return { mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  // A percentile is its bucket's upper bound, which can exceed the largest value recorded.
  const at = (p: number): number => ms(Math.min(h.getValueAtPercentile(p), h.maxValue));
  return { mean: ms(h.mean), p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: ms(h.maxValue) };
}
