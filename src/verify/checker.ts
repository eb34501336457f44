// Linearizability checker: Wing & Gong's search with Lowe's just-in-time linearization and
// memoization of visited configurations.
//
// Per partition, the calls and returns are laid out on a time line (calls before returns at
// equal times: concurrent). The search walks the line from the front; at a call it tries to
// linearize that operation now (model step from the current state); if the step is allowed and
// the resulting configuration (set of linearized operations, model state) was never seen, it
// removes the operation's call and return from the line, pushes a backtrack frame and restarts
// from the front. Reaching a return means that operation should already have been linearized:
// backtrack (undo the last choice and try the next option). The history is linearizable once
// every 'ok' operation is linearized; 'unknown' operations have no return and may be linearized
// anywhere after their call, or never.
//
// Visited configurations are memoized by (bitset of linearized operations, model state): the
// bitset is a Uint32Array, hashed incrementally (Zobrist: a random word per operation, XORed
// in and out), combined with the model's state hash; buckets compare bitsets and states exactly.
// On top of that (see `search`): read-only operations are linearized without branching, and
// configurations that only add 'unknown' operations to a failed one are pruned. When the
// search runs long, a cheap necessary condition (`impossibleOps`) looks for operations possible
// in no reachable state, which settles 'illegal' at once (explained with the best prefix so far).
//
// Cost: exponential in the worst case (the problem is NP-complete). In practice it grows with
// concurrency (operations in flight at once) and, for illegal histories, with the number of
// 'unknown' operations and with how often values repeat; use distinct written values.

import type { History, Operation } from './history.js';
import type { Model, Partition, StepResult } from './models.js';
import { formatFailure } from './report.js';

export type CheckVerdict = 'ok' | 'illegal' | 'unknown';

export interface CheckOptions {
  /** Wall-clock budget for the whole check (all partitions). Default: no limit. */
  readonly timeoutMs?: number;
  /** Check every partition even after one is illegal (default false: stop at the first). */
  readonly checkAll?: boolean;
  /**
   * Tuning: configurations the first search pass (unknown operations first) may memoize per
   * partition before the second pass (ok operations first) takes over. Default 5000 + 5 per
   * operation; 0 goes straight to the second pass. Both passes are complete: this changes
   * speed, never verdicts.
   */
  readonly firstPassBudget?: number;
}

export interface PartitionResult {
  readonly key: string;
  readonly ops: number;
  readonly result: CheckVerdict;
  /** Distinct (linearized set, state) configurations memoized. */
  readonly configurations: number;
  /** Model steps taken. */
  readonly steps: number;
  readonly elapsedMs: number;
}

/** A linearized operation and the model state right after it. */
export interface LinearizedStep<I, O> {
  readonly op: Operation<I, O>;
  readonly stateAfter: string;
}

/** An operation that could not be linearized next, and why. */
export interface StuckOp<I, O> {
  readonly op: Operation<I, O>;
  readonly reason: string;
}

/** The smallest failing piece found: one partition and where its linearization breaks down. */
export interface Failure<I, O> {
  readonly key: string;
  readonly modelName: string;
  /** Every operation of the failing partition. */
  readonly ops: readonly Operation<I, O>[];
  /** The longest linearizable prefix found, in linearization order. */
  readonly linearized: readonly LinearizedStep<I, O>[];
  readonly stateAfterPrefix: string;
  /** The candidates for the next linearization point: none of them fits after the prefix. */
  readonly stuck: readonly StuckOp<I, O>[];
  /** Unknown-outcome operations that could still take effect there (applying them does not help). */
  readonly pendingUnknown: readonly Operation<I, O>[];
  /** The earliest-returning operation still pending after the prefix (it had to come next, at the latest). */
  readonly deadline: Operation<I, O> | undefined;
  /**
   * Operations possible in no state reachable by any ordering of the partition's operations
   * (e.g. a read of a value never written): they alone make the partition illegal. When this
   * is non-empty the prefix may come from a search cut short.
   */
  readonly impossible: readonly Operation<I, O>[];
  /** One-line descriptions of every operation in `ops`, by op id (for reports). */
  readonly labels: ReadonlyMap<number, string>;
  /** Human-readable explanation with a timeline of the relevant operations. */
  readonly text: string;
}

export interface CheckResult<I, O> {
  readonly result: CheckVerdict;
  readonly partitionsTotal: number;
  readonly partitionsChecked: number;
  readonly partitions: readonly PartitionResult[];
  /** On 'illegal': the smallest failing partition (partitions are checked smallest first). */
  readonly failure?: Failure<I, O>;
  /** Every failing partition found (more than one only with checkAll). */
  readonly failures: readonly Failure<I, O>[];
  readonly elapsedMs: number;
}

/** Checks `history` against `model`, partition by partition, smallest partition first. */
export function checkLinearizable<S, I, O>(history: History<I, O>, model: Model<S, I, O>, options: CheckOptions = {}): CheckResult<I, O> {
  const start = performance.now();
  const deadline = options.timeoutMs === undefined ? Infinity : start + options.timeoutMs;
  const parts: Partition<I, O>[] = model.partition ? model.partition(history) : [{ key: '*', ops: history }];
  parts.sort((a, b) => a.ops.length - b.ops.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const results: PartitionResult[] = [];
  const failures: Failure<I, O>[] = [];
  let timedOut = false;
  for (const part of parts) {
    if (performance.now() >= deadline) {
      timedOut = true;
      break;
    }
    const t0 = performance.now();
    const r = checkPartition(part, model, deadline, options.firstPassBudget);
    results.push({ key: part.key, ops: part.ops.length, result: r.verdict, configurations: r.configurations, steps: r.steps, elapsedMs: performance.now() - t0 });
    if (r.verdict === 'unknown') timedOut = true;
    if (r.failure) {
      failures.push(r.failure);
      if (!options.checkAll) break;
    }
  }
  const result: CheckVerdict = failures.length > 0 ? 'illegal' : timedOut ? 'unknown' : 'ok';
  const out: CheckResult<I, O> = {
    result,
    partitionsTotal: parts.length,
    partitionsChecked: results.filter((r) => r.result !== 'unknown').length,
    partitions: results,
    failures,
    elapsedMs: performance.now() - start,
  };
  return failures.length > 0 ? { ...out, failure: failures[0]! } : out;
}

// ---------------------------------------------------------------------------------------------

interface Entry {
  readonly op: number; // index into the partition's ops
  readonly isCall: boolean;
  /** For a call: its return entry (null for 'unknown' operations). */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

/** A memoized configuration: the linearized set and the state after it. */
interface Memo<S> {
  /** Offset of its bitset in the search's arena (one allocation for all bitsets, less GC). */
  readonly at: number;
  readonly state: S;
  /** Fully explored without finding a linearization (false while it is on the search stack). */
  failed: boolean;
}

interface Frame<S> {
  readonly entry: Entry; // the call entry linearized
  readonly prevState: S;
  readonly alternatives: readonly S[];
  readonly nextAlternative: number;
  /** Linearized by the read-only reduction: no alternative order needs exploring. */
  readonly forced: boolean;
  readonly path: PathNode<S>;
  readonly memo: Memo<S>;
}

/** The linearization so far as a persistent list (so remembering the best one is O(1)). */
interface PathNode<S> {
  readonly op: number;
  readonly stateAfter: S;
  readonly prev: PathNode<S> | null;
  readonly okCount: number;
  readonly length: number;
}

interface PartitionOutcome<I, O> {
  readonly verdict: CheckVerdict;
  readonly configurations: number;
  readonly steps: number;
  readonly failure?: Failure<I, O>;
}

interface SearchOutcome<S> {
  /** 'unknown': the deadline or the configuration budget was reached. */
  readonly verdict: CheckVerdict;
  readonly timedOut: boolean;
  readonly configurations: number;
  readonly steps: number;
  /** The best partial linearization found (most 'ok' operations, then fewest 'unknown'). */
  readonly best: PathNode<S> | null;
  readonly sorted: readonly Entry[];
}

/**
 * Two passes (both complete searches; they differ only in which candidates are tried first):
 *  1. 'unknown' operations first, on a small configuration budget: finds linearizations fast
 *     when unknown operations did take effect (the usual case);
 *  2. 'ok' operations first, without budget: slower to find such linearizations but much
 *     better at exhausting illegal histories, since the configurations that dominate others
 *     (fewer unknown operations applied) are then explored first.
 * Before pass 2 the cheap necessary condition runs; if it settles 'illegal', pass 2 is skipped.
 * Budgets count configurations, not time, so verdicts do not depend on machine load (except
 * for the timeout).
 */
function checkPartition<S, I, O>(part: Partition<I, O>, model: Model<S, I, O>, deadline: number, firstPassBudget?: number): PartitionOutcome<I, O> {
  const first = search(part, model, deadline, true, firstPassBudget ?? 5_000 + 5 * part.ops.length);
  let r = first;
  let impossible: number[] = [];
  if (first.verdict === 'unknown' && !first.timedOut) {
    impossible = impossibleOps(part.ops, model);
    if (impossible.length === 0) r = search(part, model, deadline, false, Infinity);
  }
  const configurations = first.configurations + (r === first ? 0 : r.configurations);
  const steps = first.steps + (r === first ? 0 : r.steps);
  if (r.verdict === 'ok') return { verdict: 'ok', configurations, steps };
  if (r.verdict === 'illegal' || impossible.length > 0) {
    return { verdict: 'illegal', configurations, steps, failure: explain(part, model, r.best, r.sorted, impossible, r.verdict === 'illegal') };
  }
  return { verdict: 'unknown', configurations, steps };
}

/**
 * A cheap necessary condition: the states reachable by applying the partition's operations
 * any number of times in any order over-approximate the states any linearization passes
 * through, so an 'ok' operation allowed in none of them can never be linearized. Returns those
 * operations (indexes), or [] when there are none or the closure is too large to compute.
 */
function impossibleOps<S, I, O>(ops: readonly Operation<I, O>[], model: Model<S, I, O>, maxStates = 4096, maxSteps = 50_000): number[] {
  // One representative per distinct (input, output): the step depends on nothing else.
  const keys = ops.map((op) => plainKey([op.outcome, op.input, op.output]));
  const firstOf = new Map<string, number>();
  const representative = ops.map((_, i) => {
    const k = keys[i];
    if (k === undefined) return i;
    const first = firstOf.get(k);
    if (first !== undefined) return first;
    firstOf.set(k, i);
    return i;
  });
  const distinct = ops.map((_, i) => i).filter((i) => representative[i] === i);
  const writers = distinct.filter((i) => !(model.readOnly?.(ops[i]!.input, ops[i]!.output) ?? false)).map((i) => ops[i]!);

  const seen = new Map<number, S[]>();
  const states: S[] = [];
  const add = (st: S): boolean => {
    const h = model.hash(st) | 0;
    let bucket = seen.get(h);
    if (!bucket) seen.set(h, (bucket = []));
    if (bucket.some((x) => model.equal(x, st))) return false;
    bucket.push(st);
    states.push(st);
    return true;
  };
  let steps = 0;
  add(model.init());
  for (let i = 0; i < states.length; i++) {
    for (const op of writers) {
      if (++steps > maxSteps) return [];
      for (const next of allowedStates(model.step(states[i]!, op.input, op.output))) {
        if (add(next) && states.length > maxStates) return [];
      }
    }
  }
  const checked = distinct.filter((i) => ops[i]!.outcome === 'ok');
  if (checked.length * states.length > 4 * maxSteps) return [];
  const never = new Set(checked.filter((i) => !states.some((st) => allowedStates(model.step(st, ops[i]!.input, ops[i]!.output)).length > 0)));
  return ops.map((_, i) => i).filter((i) => ops[i]!.outcome === 'ok' && never.has(representative[i]!));
}

/**
 * A canonical string for plain data (null, booleans, finite numbers, strings, arrays, plain
 * objects, undefined), or undefined if the value holds anything else (Map, class instance, ...):
 * then it is not deduplicated.
 */
function plainKey(v: unknown): string | undefined {
  if (v === undefined) return 'u';
  if (v === null) return 'n';
  switch (typeof v) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'number':
      return Number.isFinite(v) || Number.isNaN(v) ? `#${v}` : v > 0 ? '#+inf' : '#-inf';
    case 'string':
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (const x of v) {
          const k = plainKey(x);
          if (k === undefined) return undefined;
          parts.push(k);
        }
        return `[${parts.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return undefined;
      const parts: string[] = [];
      for (const key of Object.keys(v).sort()) {
        const k = plainKey((v as Record<string, unknown>)[key]);
        if (k === undefined) return undefined;
        parts.push(`${JSON.stringify(key)}:${k}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return undefined;
  }
}

function allowedStates<S>(r: StepResult<S> | readonly StepResult<S>[]): S[] {
  if (Array.isArray(r)) return (r as readonly StepResult<S>[]).filter((x) => x.ok).map((x) => x.state);
  const one = r as StepResult<S>;
  return one.ok ? [one.state] : [];
}

/** Deterministic per-op 32-bit words for the Zobrist hash of the linearized set. */
function zobristWords(n: number): Uint32Array {
  const z = new Uint32Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    z[i] = x >>> 0;
  }
  return z;
}

/** Sorted events of the included ops: by time, calls before returns at equal times, then op order. */
function buildTimeline<I, O>(ops: readonly Operation<I, O>[], include: readonly boolean[]): Entry[] {
  const entries: Entry[] = [];
  const times: number[] = [];
  ops.forEach((op, i) => {
    if (!include[i]) return;
    const call: Entry = { op: i, isCall: true, match: null, prev: null, next: null };
    entries.push(call);
    times.push(op.callTime);
    if (op.outcome === 'ok') {
      const ret: Entry = { op: i, isCall: false, match: null, prev: null, next: null };
      call.match = ret;
      entries.push(ret);
      times.push(op.returnTime);
    }
  });
  const order = entries.map((_, i) => i);
  order.sort((a, b) => {
    const ea = entries[a]!;
    const eb = entries[b]!;
    return times[a]! - times[b]! || (ea.isCall === eb.isCall ? 0 : ea.isCall ? -1 : 1) || ea.op - eb.op;
  });
  return order.map((i) => entries[i]!);
}

/**
 * The search for one partition. Beyond plain JIT linearization with memoization it uses two
 * sound reductions:
 *  - read-only operations (Model.readOnly) are linearized as soon as they are enabled, without
 *    branching (see forceReadOnly);
 *  - 'unknown' operations are optional, so a configuration is dominated by one with the same
 *    'ok' operations and state but a subset of the 'unknown' ones: if that one failed, so does
 *    this one. The memo hashes the 'ok' part of the set only. With unknownFirst false the scan
 *    tries 'unknown' operations only after every 'ok' candidate, so dominating configurations
 *    tend to be explored (and fail) first. A run of consecutive 'unknown' operations is cut
 *    short when a shorter run reaches the same state (dominatedByShorterRun). 'unknown'
 *    read-only operations constrain nothing and are dropped.
 * Stops with 'unknown' at the deadline or past maxConfigurations memoized configurations.
 */
function search<S, I, O>(part: Partition<I, O>, model: Model<S, I, O>, deadline: number, unknownFirst: boolean, maxConfigurations: number): SearchOutcome<S> {
  const ops = part.ops;
  const n = ops.length;
  const readOnly = ops.map((op) => model.readOnly?.(op.input, op.output) ?? false);
  const unknown = ops.map((op) => op.outcome === 'unknown');
  const include = ops.map((_, i) => !(unknown[i] && readOnly[i]));
  const sorted = buildTimeline(ops, include);
  const head: Entry = { op: -1, isCall: false, match: null, prev: null, next: null };
  let prev = head;
  for (const e of sorted) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const lift = (call: Entry): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match;
    if (ret) {
      ret.prev!.next = ret.next;
      if (ret.next) ret.next.prev = ret.prev;
    }
  };
  const unlift = (call: Entry): void => {
    const ret = call.match;
    if (ret) {
      ret.prev!.next = ret;
      if (ret.next) ret.next.prev = ret;
    }
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  const words = Math.max(1, Math.ceil(n / 32));
  const bits = new Uint32Array(words);
  const unknownMask = new Uint32Array(words);
  for (let i = 0; i < n; i++) if (unknown[i]) unknownMask[i >>> 5]! |= 1 << (i & 31);
  const zob = zobristWords(n);
  for (let i = 0; i < n; i++) if (unknown[i]) zob[i] = 0; // hash the 'ok' part of the set only
  let zhash = 0;
  const cache = new Map<number, Memo<S>[]>();
  let arena = new Uint32Array(words * 1024);
  let arenaUsed = 0;
  let configurations = 0;
  let steps = 0;

  /**
   * The memo entry for the configuration (current set + op, state), or null if it is known to
   * fail: seen before (it cannot be on the stack: the stack only holds smaller sets), or
   * dominated by a failed configuration with a subset of its 'unknown' operations.
   */
  const remember = (op: number, state: S): Memo<S> | null => {
    const w = op >>> 5;
    const bit = 1 << (op & 31);
    bits[w]! |= bit;
    try {
      const key = ((zhash ^ zob[op]!) ^ Math.imul(model.hash(state) | 0, 0x9e3779b1)) | 0;
      let bucket = cache.get(key);
      if (bucket) {
        for (const m of bucket) {
          if (dominates(m, arena, bits, unknownMask) && model.equal(m.state, state)) return null;
        }
      } else {
        cache.set(key, (bucket = []));
      }
      if (arenaUsed + words > arena.length) {
        const grown = new Uint32Array(arena.length * 2);
        grown.set(arena);
        arena = grown;
      }
      arena.set(bits, arenaUsed);
      const memo: Memo<S> = { at: arenaUsed, state, failed: false };
      arenaUsed += words;
      bucket.push(memo);
      configurations++;
      return memo;
    } finally {
      bits[w]! &= ~bit;
    }
  };

  let state = model.init();
  let remainingOk = ops.reduce((c, op) => c + (op.outcome === 'ok' ? 1 : 0), 0);
  const stack: Frame<S>[] = [];
  // The best partial linearization: most 'ok' operations, then fewest 'unknown' ones.
  let best: PathNode<S> | null = null;
  const better = (a: PathNode<S>, b: PathNode<S> | null): boolean =>
    b === null || a.okCount > b.okCount || (a.okCount === b.okCount && a.length - a.okCount < b.length - b.okCount);

  const push = (entry: Entry, next: S, memo: Memo<S>, alternatives: readonly S[], nextAlternative: number, forced: boolean): void => {
    const top = stack.length > 0 ? stack[stack.length - 1]!.path : null;
    const isOk = !unknown[entry.op];
    const path: PathNode<S> = { op: entry.op, stateAfter: next, prev: top, okCount: (top?.okCount ?? 0) + (isOk ? 1 : 0), length: (top?.length ?? 0) + 1 };
    stack.push({ entry, prevState: state, alternatives, nextAlternative, forced, path, memo });
    bits[entry.op >>> 5]! |= 1 << (entry.op & 31);
    zhash ^= zob[entry.op]!;
    state = next;
    lift(entry);
    if (isOk) remainingOk--;
    if (better(path, best)) best = path;
  };

  /**
   * Run reduction: linearizing unknown op z right after a run of 'unknown' ops v1..vk (no 'ok'
   * op in between) to reach state `next` is pointless when z linearized before some vi already
   * reaches `next`: that configuration has the same 'ok' operations and state but fewer unknown
   * ones, so it dominates this one, and it is explored from the configuration before vi (z is
   * a candidate there too: the run lifted no return; and every configuration tries all its
   * candidates). E.g. two unknown blind writes in a row. (The same holds for an 'ok' z, but
   * pruning those measured slower: it steers the unknown-first pass away from its greedy path.)
   */
  const dominatedByShorterRun = (z: number, next: S): boolean => {
    const op = ops[z]!;
    for (let f = stack.length - 1; f >= 0 && unknown[stack[f]!.entry.op]!; f--) {
      const before = stack[f]!.prevState;
      steps++;
      for (const alt of allowedStates(model.step(before, op.input, op.output))) {
        if (model.equal(alt, next)) return true;
      }
    }
    return false;
  };

  /** Tries alternatives[from..] for `entry`'s operation; on success linearizes it and returns true. */
  const tryAlternatives = (entry: Entry, alternatives: readonly S[], from: number): boolean => {
    for (let k = from; k < alternatives.length; k++) {
      const next = alternatives[k]!;
      if (unknown[entry.op] && dominatedByShorterRun(entry.op, next)) continue;
      const memo = remember(entry.op, next);
      if (memo === null) continue;
      push(entry, next, memo, alternatives, k + 1, false);
      return true;
    }
    return false;
  };

  /**
   * Read-only reduction: an enabled read-only candidate can be linearized right away without
   * losing any solution (moving it to the front of any valid continuation keeps it valid: it
   * changes no state and every operation that precedes it in real time is already linearized).
   * So: 'pushed' if one was linearized; 'dead' if one is enabled but the configuration after it
   * is known to fail (so this one fails too); 'none' otherwise. Read-only candidates not enabled
   * here stay disabled in this configuration: the scan skips them.
   */
  const forceReadOnly = (): 'pushed' | 'dead' | 'none' => {
    for (let e = head.next; e !== null && e.isCall; e = e.next) {
      if (!readOnly[e.op]) continue;
      const op = ops[e.op]!;
      steps++;
      const alternatives = allowedStates(model.step(state, op.input, op.output));
      if (alternatives.length === 0) continue;
      const next = alternatives[0]!; // read-only: the state is unchanged
      const memo = remember(e.op, next);
      if (memo === null) return 'dead';
      push(e, next, memo, [], 0, true);
      return 'pushed';
    }
    return 'none';
  };

  // Scan position: the entry to try next, and the phase: 0 tries 'unknown' operations if
  // unknownFirst, else 'ok' ones; phase 1 the others.
  let entry: Entry | null = head.next;
  let phase: 0 | 1 = 0;
  let fresh = true; // a configuration not scanned yet: try the read-only reduction first

  /** Undoes choices until an untried one exists; returns false when none is left (illegal). */
  const backtrack = (): boolean => {
    for (;;) {
      const frame = stack.pop();
      if (!frame) return false;
      frame.memo.failed = true;
      const e = frame.entry;
      unlift(e);
      bits[e.op >>> 5]! &= ~(1 << (e.op & 31));
      zhash ^= zob[e.op]!;
      state = frame.prevState;
      if (!unknown[e.op]) remainingOk++;
      // A forced (read-only) step fails only if the configuration before it fails too.
      if (frame.forced) continue;
      if (tryAlternatives(e, frame.alternatives, frame.nextAlternative)) {
        entry = head.next;
        phase = 0;
        fresh = true;
      } else {
        // Continue the scan of the restored configuration after the undone operation.
        entry = e.next;
        phase = unknown[e.op] === unknownFirst ? 0 : 1;
        fresh = false;
      }
      return true;
    }
  };

  let iterations = 0;
  const end = (verdict: CheckVerdict, timedOut = false): SearchOutcome<S> => ({ verdict, timedOut, configurations, steps, best, sorted });
  for (;;) {
    if (remainingOk === 0) return end('ok');
    if (configurations > maxConfigurations) return end('unknown');
    if ((++iterations & 1023) === 0 && performance.now() >= deadline) return end('unknown', true);
    if (fresh) {
      fresh = false;
      entry = head.next;
      phase = 0;
      const forced = forceReadOnly();
      if (forced === 'pushed') {
        fresh = true;
        continue;
      }
      if (forced === 'dead') {
        if (!backtrack()) return end('illegal');
        continue;
      }
    }
    if (entry === null || !entry.isCall) {
      // End of the candidates (the first pending return: its operation cannot wait longer).
      if (phase === 0) {
        phase = 1;
        entry = head.next;
        continue;
      }
      if (!backtrack()) return end('illegal');
      continue;
    }
    const i = entry.op;
    if (readOnly[i] || unknown[i] !== (unknownFirst === (phase === 0))) {
      entry = entry.next; // read-only: not enabled here (forceReadOnly tried it); or not this phase
      continue;
    }
    const op = ops[i]!;
    steps++;
    const alternatives = allowedStates(model.step(state, op.input, op.output));
    if (tryAlternatives(entry, alternatives, 0)) fresh = true;
    else entry = entry.next;
  }
}

/** m's set has the same 'ok' operations as `bits` and a subset of its 'unknown' ones, and m failed (or equals). */
function dominates<S>(m: Memo<S>, arena: Uint32Array, bits: Uint32Array, unknownMask: Uint32Array): boolean {
  const at = m.at;
  let equal = true;
  for (let i = 0; i < bits.length; i++) {
    const a = arena[at + i]!;
    const b = bits[i]!;
    if (a === b) continue;
    equal = false;
    const u = unknownMask[i]!;
    if ((a & ~u) !== (b & ~u)) return false; // different 'ok' operations
    if ((a & u & ~b) !== 0) return false; // m has an 'unknown' operation that bits lacks
  }
  return equal || m.failed;
}

/** Builds the failure description from the best partial linearization reached. */
function explain<S, I, O>(
  part: Partition<I, O>,
  model: Model<S, I, O>,
  best: PathNode<S> | null,
  sorted: readonly Entry[],
  impossible: readonly number[],
  searchComplete: boolean,
): Failure<I, O> {
  const ops = part.ops;
  const path: PathNode<S>[] = [];
  for (let p = best; p !== null; p = p.prev) path.push(p);
  path.reverse();
  const done = new Set(path.map((p) => p.op));
  const state = path.length > 0 ? path[path.length - 1]!.stateAfter : model.init();
  const stateText = model.describeState(state);

  // Candidates: pending calls before the first pending return on the time line.
  const candidates: number[] = [];
  let deadlineOp: number | undefined;
  for (const e of sorted) {
    if (done.has(e.op)) continue;
    if (!e.isCall) {
      deadlineOp = e.op;
      break;
    }
    candidates.push(e.op);
  }
  const stuck: StuckOp<I, O>[] = [];
  const pendingUnknown: Operation<I, O>[] = [];
  for (const i of candidates) {
    const op = ops[i]!;
    if (op.outcome === 'unknown') {
      pendingUnknown.push(op);
      continue;
    }
    const allowed = allowedStates(model.step(state, op.input, op.output)).length > 0;
    stuck.push({
      op,
      reason: !allowed
        ? `not possible in state ${stateText}`
        : searchComplete
          ? `possible in state ${stateText}, but no linearization continues after it`
          : `possible in state ${stateText} (the search for a longer prefix was cut short)`,
    });
  }
  const labels = new Map<number, string>();
  for (const op of ops) labels.set(op.id, model.describeOp(op.input, op.output));
  const base = {
    key: part.key,
    modelName: model.name,
    ops,
    linearized: path.map((p) => ({ op: ops[p.op]!, stateAfter: model.describeState(p.stateAfter) })),
    stateAfterPrefix: stateText,
    stuck,
    pendingUnknown,
    deadline: deadlineOp === undefined ? undefined : ops[deadlineOp]!,
    impossible: impossible.map((i) => ops[i]!),
    labels,
  };
  return { ...base, text: formatFailure({ ...base, text: '' }) };
}
