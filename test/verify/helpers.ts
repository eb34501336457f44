// Helpers for the linearizability-checker tests: terse history builders, a seeded PRNG, a
// brute-force reference checker for tiny histories, and a random-history generator.

import type { History, Operation, OperationRecord } from '../../src/verify/history.js';
import { makeHistory } from '../../src/verify/history.js';
import type { KvInput, KvOutput, KvState, Model, RegisterInput, RegisterOutput, RegisterValue } from '../../src/verify/models.js';
import { kvModel } from '../../src/verify/models.js';

/** Builds records tersely: ok(client, input, output, call, ret), unknown(client, input, call), fail(...). */
export class Builder<I, O> {
  readonly records: OperationRecord<I, O>[] = [];
  ok(clientId: string, input: I, output: O, callTime: number, returnTime: number): this {
    this.records.push({ clientId, input, output, callTime, returnTime, outcome: 'ok' });
    return this;
  }
  unknown(clientId: string, input: I, callTime: number, gaveUpAt?: number): this {
    this.records.push(gaveUpAt === undefined ? { clientId, input, callTime, outcome: 'unknown' } : { clientId, input, callTime, returnTime: gaveUpAt, outcome: 'unknown' });
    return this;
  }
  fail(clientId: string, input: I, callTime: number, returnTime: number): this {
    this.records.push({ clientId, input, callTime, returnTime, outcome: 'fail' });
    return this;
  }
  history(): History<I, O> {
    return makeHistory(this.records);
  }
}

/** mulberry32 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function int(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

/**
 * Reference checker by exhaustive search (no memoization, no partitioning): tries every order
 * that respects real time, where each 'unknown' op may also be left out. Tiny histories only.
 */
export function bruteForceLinearizable<S, I, O>(history: History<I, O>, model: Model<S, I, O>): boolean {
  const n = history.length;
  const used = new Array<boolean>(n).fill(false);
  const search = (state: S, remainingOk: number): boolean => {
    if (remainingOk === 0) return true;
    // An op can go next iff no other unused 'ok' op returned before its call.
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const op = history[i]!;
      let minimal = true;
      for (let j = 0; j < n && minimal; j++) {
        if (j !== i && !used[j] && history[j]!.outcome === 'ok' && history[j]!.returnTime < op.callTime) minimal = false;
      }
      if (!minimal) continue;
      const r = model.step(state, op.input, op.output);
      const results = Array.isArray(r) ? r : [r];
      for (const res of results as { ok: boolean; state: S }[]) {
        if (!res.ok) continue;
        used[i] = true;
        const found = search(res.state, remainingOk - (op.outcome === 'ok' ? 1 : 0));
        used[i] = false;
        if (found) return true;
      }
    }
    return false;
  };
  return search(model.init(), history.filter((o) => o.outcome === 'ok').length);
}

export interface GenOptions {
  readonly ops: number;
  readonly values: number; // distinct written values
  readonly unknownRate: number; // fraction of updates that end 'unknown'
  readonly maxSlack: number; // how far call/return stretch around the linearization point
  readonly spacing: number; // distance between consecutive linearization points
}

/** A sequential executable spec used to generate histories: what an input outputs and does. */
export interface Executor<S, I, O> {
  init: S;
  randomInput(r: () => number, state: S, o: GenOptions): I;
  isUpdate(input: I): boolean;
  apply(state: S, input: I): { state: S; output: O };
}

/**
 * A random history that is linearizable by construction: a sequential execution with
 * linearization points p0 < p1 < ..., each op an interval around its point, assigned to a client
 * idle at that time. Some updates end 'unknown' (half still take effect at their point, half
 * never do); their client then retires and a new one joins.
 */
export function randomHistory<S, I, O>(seed: number, o: GenOptions, ex: Executor<S, I, O>): History<I, O> {
  const r = rng(seed);
  const busyUntil = new Map<string, number>();
  let nextClient = 0;
  let state = ex.init;
  const records: OperationRecord<I, O>[] = [];
  for (let i = 0; i < o.ops; i++) {
    const p = (i + 1) * o.spacing;
    const idle = [...busyUntil].filter(([, t]) => t < p).map(([c]) => c);
    let client: string;
    if (idle.length === 0 || (idle.length < 6 && r() < 0.2)) {
      client = `c${nextClient++}`;
      busyUntil.set(client, -Infinity);
    } else {
      client = idle[int(r, idle.length)]!;
    }
    const free = busyUntil.get(client)!;
    const lo = Math.max(free + Math.min(0.5, (p - free) / 2), p - o.maxSlack);
    const callTime = lo + r() * (p - lo);
    const returnTime = p + r() * o.maxSlack;
    const input = ex.randomInput(r, state, o);
    if (ex.isUpdate(input) && r() < o.unknownRate) {
      if (r() < 0.5) state = ex.apply(state, input).state; // took effect at p
      records.push({ clientId: client, input, callTime, returnTime, outcome: 'unknown' });
      busyUntil.set(client, Infinity); // retired
      continue;
    }
    const { state: next, output } = ex.apply(state, input);
    state = next;
    records.push({ clientId: client, input, output, callTime, returnTime, outcome: 'ok' });
    busyUntil.set(client, returnTime);
  }
  return makeHistory(records);
}

export const registerExecutor: Executor<RegisterValue, RegisterInput, RegisterOutput> = {
  init: null,
  randomInput(r, state, o) {
    const kind = r();
    if (kind < 0.45) return { type: 'read' };
    if (kind < 0.85) return { type: 'write', value: 1 + int(r, o.values) };
    return { type: 'cas', expected: r() < 0.5 ? state : 1 + int(r, o.values), value: 1 + int(r, o.values) };
  },
  isUpdate: (input) => input.type !== 'read',
  apply(state, input) {
    switch (input.type) {
      case 'read':
        return { state, output: { value: state } };
      case 'write':
        return { state: input.value, output: {} };
      case 'cas':
        return state === input.expected ? { state: input.value, output: { ok: true } } : { state, output: { ok: false } };
    }
  },
};

export function randomRegisterHistory(seed: number, o: GenOptions): History<RegisterInput, RegisterOutput> {
  return randomHistory(seed, o, registerExecutor);
}

/** KV over `keys` keys: puts, gets, appends, deletes, CAS; applied with the model itself. */
export function kvExecutor(keys: number): Executor<KvState, KvInput, KvOutput> {
  const model = kvModel();
  return {
    init: model.init(),
    randomInput(r, state, o) {
      const key = `k${int(r, keys)}`;
      const v = `v${1 + int(r, o.values)}`;
      const kind = r();
      if (kind < 0.4) return { type: 'get', key };
      if (kind < 0.6) return { type: 'put', key, value: v };
      if (kind < 0.75) return { type: 'append', key, suffix: String(int(r, 10)) };
      if (kind < 0.85) return { type: 'compareAndPut', key, expected: r() < 0.5 ? (state.get(key) ?? null) : v, value: `v${1 + int(r, o.values)}` };
      if (kind < 0.92) return { type: 'delete', key };
      return { type: 'getAndPut', key, value: v };
    },
    isUpdate: (input) => input.type !== 'get',
    apply(state, input) {
      const before = state;
      const res = model.step(state, input, undefined) as { ok: boolean; state: KvState };
      const cur = input.type === 'multiGet' || input.type === 'multiPut' || input.type === 'multiDelete' ? null : (before.get(input.key) ?? null);
      let output: KvOutput;
      switch (input.type) {
        case 'get':
        case 'getAndPut':
          output = { value: cur };
          break;
        case 'append':
          output = { value: res.state.get(input.key) ?? null };
          break;
        case 'compareAndPut':
          output = { ok: cur === input.expected };
          break;
        case 'delete':
          output = { ok: cur !== null };
          break;
        default:
          output = {};
      }
      return { state: res.state, output };
    },
  };
}

/** Replaces the output of op `index` (keeping everything else). */
export function withOutput<I, O>(history: History<I, O>, index: number, output: O): History<I, O> {
  return history.map((op, i) => (i === index ? ({ ...op, output } as Operation<I, O>) : op));
}
