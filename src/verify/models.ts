// Sequential specifications ("models") that histories are checked against.
//
// A model is a pure state machine: `step(state, input, output)` says whether `input` applied in
// `state` may produce `output`, and what the state becomes. `output` is undefined for an
// operation whose outcome is unknown: the step must then accept any output the operation could
// have produced (it constrains only the state). A step may be nondeterministic (return several
// successor states); most models are deterministic and return one { ok, state }.
//
// States must be treated as immutable values: the checker keeps old states for backtracking and
// memoizes visited (linearized set, state) pairs using `hash` and `equal`.
//
// `partition` splits a history into independent sub-histories (P-compositionality): a history
// is linearizable iff every partition is. The KV model partitions per key.

import type { History, Operation } from './history.js';

export interface StepResult<S> {
  readonly ok: boolean;
  readonly state: S;
}

/** An independent sub-history; `key` names it in reports. */
export interface Partition<I, O> {
  readonly key: string;
  readonly ops: readonly Operation<I, O>[];
}

export interface Model<S, I, O> {
  readonly name: string;
  init(): S;
  /** Deterministic models return one result; nondeterministic ones return every possible one. */
  step(state: S, input: I, output: O | undefined): StepResult<S> | readonly StepResult<S>[];
  equal(a: S, b: S): boolean;
  /** A 32-bit integer hash consistent with `equal`. */
  hash(state: S): number;
  /**
   * Optional: true if the operation, with this observed output, never changes the state in any
   * state where it is allowed (a read, a CAS observed to fail, ...). Enables a sound reduction:
   * such operations are linearized as soon as they are enabled, without branching.
   */
  readOnly?(input: I, output: O | undefined): boolean;
  /** Optional: independent sub-histories. Without it the whole history is one partition. */
  partition?(history: History<I, O>): Partition<I, O>[];
  /** One line, e.g. `put(k, "v")` or `get(k) -> "v"`; output undefined means unknown. */
  describeOp(input: I, output: O | undefined): string;
  describeState(state: S): string;
}

/** FNV-1a over a string, as a 32-bit unsigned integer. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function show(v: unknown): string {
  if (v === null) return 'nil';
  if (v === undefined) return '?';
  return JSON.stringify(v);
}

/**
 * Groups operations into partitions by the keys they touch (union-find): operations that touch
 * one key go to that key's partition; an operation touching several keys merges their
 * partitions into one (named "k1+k2+..."). Operations touching no key form the partition "*".
 */
export function partitionByKeys<I, O>(history: History<I, O>, keysOf: (input: I) => readonly string[]): Partition<I, O>[] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root)!;
    let cur = k;
    while (cur !== root) {
      const next = parent.get(cur)!;
      parent.set(cur, root);
      cur = next;
    }
    return root;
  };
  const add = (k: string): void => {
    if (!parent.has(k)) parent.set(k, k);
  };
  const opKeys = history.map((op) => {
    const keys = keysOf(op.input);
    return keys.length === 0 ? ['*'] : keys;
  });
  for (const keys of opKeys) {
    for (const k of keys) add(k);
    for (let i = 1; i < keys.length; i++) {
      const a = find(keys[0]!);
      const b = find(keys[i]!);
      if (a !== b) parent.set(b, a);
    }
  }
  const groups = new Map<string, { keys: Set<string>; ops: Operation<I, O>[] }>();
  history.forEach((op, i) => {
    const root = find(opKeys[i]![0]!);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = { keys: new Set(), ops: [] }));
    for (const k of opKeys[i]!) g.keys.add(k);
    g.ops.push(op);
  });
  return [...groups.values()].map((g) => ({ key: [...g.keys].sort().join('+'), ops: g.ops }));
}

// ---------------------------------------------------------------------------------------------
// Register: one value, read / write / compare-and-set.

export type RegisterValue = string | number | null;

export type RegisterInput =
  | { readonly type: 'read' }
  | { readonly type: 'write'; readonly value: RegisterValue }
  | { readonly type: 'cas'; readonly expected: RegisterValue; readonly value: RegisterValue };

/** read: `value`; write: nothing checked; cas: `ok` = whether it swapped. */
export interface RegisterOutput {
  readonly value?: RegisterValue;
  readonly ok?: boolean;
}

/** A single read/write/CAS register starting at `initial` (default null). Not partitioned. */
export function registerModel(initial: RegisterValue = null): Model<RegisterValue, RegisterInput, RegisterOutput> {
  return {
    name: 'register',
    init: () => initial,
    step(state, input, output) {
      switch (input.type) {
        case 'read':
          return { ok: output === undefined || output.value === state, state };
        case 'write':
          return { ok: true, state: input.value };
        case 'cas': {
          const swapped = state === input.expected;
          const ok = output === undefined || output.ok === undefined || output.ok === swapped;
          return { ok, state: swapped ? input.value : state };
        }
      }
    },
    readOnly: (input, output) => input.type === 'read' || (input.type === 'cas' && output?.ok === false),
    equal: (a, b) => a === b,
    hash: (s) => (typeof s === 'number' ? hashString(`n${s}`) : s === null ? 0 : hashString(`s${s}`)),
    describeOp(input, output) {
      switch (input.type) {
        case 'read':
          return `read() -> ${output === undefined ? '?' : show(output.value)}`;
        case 'write':
          return `write(${show(input.value)})${output === undefined ? ' -> ?' : ''}`;
        case 'cas':
          return `cas(${show(input.expected)} -> ${show(input.value)}) -> ${output?.ok === undefined ? '?' : output.ok ? 'ok' : 'failed'}`;
      }
    },
    describeState: (s) => show(s),
  };
}

// ---------------------------------------------------------------------------------------------
// KV: a map of string keys to string values.
//
// Single-key operations (everything but multiGet / multiPut / multiDelete) partition per key.
// Multi-key operations that touch a single key partition like single-key ones; a multi-key
// operation touching several keys merges the partitions of those keys (checked together, named
// "a+b"). So the KV model is always partitioned per key, except that keys tied together by a
// multi-key operation are checked jointly — which is what atomicity across keys requires.

export type KvValue = string | null; // null = absent

export type KvInput =
  | { readonly type: 'get'; readonly key: string }
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'putIfAbsent'; readonly key: string; readonly value: string }
  | { readonly type: 'compareAndPut'; readonly key: string; readonly expected: KvValue; readonly value: string }
  | { readonly type: 'getAndPut'; readonly key: string; readonly value: string }
  | { readonly type: 'append'; readonly key: string; readonly suffix: string }
  | { readonly type: 'containsKey'; readonly key: string }
  | { readonly type: 'multiGet'; readonly keys: readonly string[] }
  | { readonly type: 'multiPut'; readonly entries: readonly (readonly [string, string])[] }
  | { readonly type: 'multiDelete'; readonly keys: readonly string[] };

/**
 * What each operation's output means (fields left undefined are not checked):
 *  - get:           value = the value read (null = absent)
 *  - put:           nothing
 *  - delete:        ok = whether the key existed
 *  - putIfAbsent:   ok = whether it inserted; value = the existing value when it did not
 *  - compareAndPut: ok = whether it swapped (expected null = "absent")
 *  - getAndPut:     value = the previous value (null = absent)
 *  - append:        value = the value after appending (append to absent = suffix)
 *  - containsKey:   ok = whether the key is present
 *  - multiGet:      values = the values, in `keys` order
 *  - multiPut:      nothing
 *  - multiDelete:   nothing
 */
export interface KvOutput {
  readonly value?: KvValue;
  readonly ok?: boolean;
  readonly values?: readonly KvValue[];
}

/** The state of one KV partition: its present keys and their values (immutable). */
export type KvState = ReadonlyMap<string, string>;

/** Keys an operation touches (what partitioning groups on). */
export function kvKeys(input: KvInput): readonly string[] {
  switch (input.type) {
    case 'multiGet':
    case 'multiDelete':
      return [...new Set(input.keys)];
    case 'multiPut':
      return [...new Set(input.entries.map(([k]) => k))];
    default:
      return [input.key];
  }
}

function kvGet(s: KvState, k: string): KvValue {
  return s.get(k) ?? null;
}

function kvSet(s: KvState, k: string, v: KvValue): KvState {
  if (kvGet(s, k) === v) return s;
  const next = new Map(s);
  if (v === null) next.delete(k);
  else next.set(k, v);
  return next;
}

const EMPTY: KvState = new Map();

function check<T>(observed: T | undefined, expected: T): boolean {
  return observed === undefined || observed === expected;
}

/** A map of string keys (all absent initially), partitioned per key. */
export function kvModel(): Model<KvState, KvInput, KvOutput> {
  return {
    name: 'kv',
    init: () => EMPTY,
    step(s, input, out) {
      switch (input.type) {
        case 'get':
          return { ok: check(out?.value, kvGet(s, input.key)), state: s };
        case 'put':
          return { ok: true, state: kvSet(s, input.key, input.value) };
        case 'delete':
          return { ok: check(out?.ok, s.has(input.key)), state: kvSet(s, input.key, null) };
        case 'putIfAbsent': {
          const cur = kvGet(s, input.key);
          if (cur === null) return { ok: check(out?.ok, true), state: kvSet(s, input.key, input.value) };
          return { ok: check(out?.ok, false) && check(out?.value, cur), state: s };
        }
        case 'compareAndPut': {
          const swapped = kvGet(s, input.key) === input.expected;
          return { ok: check(out?.ok, swapped), state: swapped ? kvSet(s, input.key, input.value) : s };
        }
        case 'getAndPut':
          return { ok: check(out?.value, kvGet(s, input.key)), state: kvSet(s, input.key, input.value) };
        case 'append': {
          const next = (kvGet(s, input.key) ?? '') + input.suffix;
          return { ok: check(out?.value, next), state: kvSet(s, input.key, next) };
        }
        case 'containsKey':
          return { ok: check(out?.ok, s.has(input.key)), state: s };
        case 'multiGet': {
          if (out?.values === undefined) return { ok: true, state: s };
          const vals = out.values;
          const ok = vals.length === input.keys.length && input.keys.every((k, i) => vals[i] === kvGet(s, k));
          return { ok, state: s };
        }
        case 'multiPut': {
          let next = s;
          for (const [k, v] of input.entries) next = kvSet(next, k, v);
          return { ok: true, state: next };
        }
        case 'multiDelete': {
          let next = s;
          for (const k of input.keys) next = kvSet(next, k, null);
          return { ok: true, state: next };
        }
      }
    },
    readOnly(input, out) {
      switch (input.type) {
        case 'get':
        case 'containsKey':
        case 'multiGet':
          return true;
        case 'putIfAbsent':
        case 'compareAndPut':
        case 'delete': // ok=false: it was absent, nothing to delete
          return out?.ok === false;
        default:
          return false;
      }
    },
    equal(a, b) {
      if (a === b) return true;
      if (a.size !== b.size) return false;
      for (const [k, v] of a) if (b.get(k) !== v) return false;
      return true;
    },
    hash(s) {
      // Order-independent: sum of per-entry hashes.
      let h = s.size;
      for (const [k, v] of s) h = (h + hashString(v, hashString(k))) >>> 0;
      return h;
    },
    partition: (history) => partitionByKeys(history, kvKeys),
    describeOp(input, out) {
      const q = out === undefined ? ' -> ?' : '';
      switch (input.type) {
        case 'get':
          return `get(${input.key}) -> ${show(out?.value)}`;
        case 'put':
          return `put(${input.key}, ${show(input.value)})${q}`;
        case 'delete':
          return `delete(${input.key})${out?.ok === undefined ? q : ` -> ${out.ok ? 'existed' : 'absent'}`}`;
        case 'putIfAbsent':
          return `putIfAbsent(${input.key}, ${show(input.value)}) -> ${out?.ok === undefined ? '?' : out.ok ? 'inserted' : `present${out.value !== undefined ? ` ${show(out.value)}` : ''}`}`;
        case 'compareAndPut':
          return `compareAndPut(${input.key}, ${show(input.expected)} -> ${show(input.value)}) -> ${out?.ok === undefined ? '?' : out.ok ? 'ok' : 'failed'}`;
        case 'getAndPut':
          return `getAndPut(${input.key}, ${show(input.value)}) -> ${show(out?.value)}`;
        case 'append':
          return `append(${input.key}, ${show(input.suffix)})${out?.value === undefined ? q : ` -> ${show(out.value)}`}`;
        case 'containsKey':
          return `containsKey(${input.key}) -> ${out?.ok === undefined ? '?' : String(out.ok)}`;
        case 'multiGet':
          return `multiGet(${input.keys.join(', ')}) -> ${out?.values === undefined ? '?' : `[${out.values.map(show).join(', ')}]`}`;
        case 'multiPut':
          return `multiPut(${input.entries.map(([k, v]) => `${k}=${show(v)}`).join(', ')})${q}`;
        case 'multiDelete':
          return `multiDelete(${input.keys.join(', ')})${q}`;
      }
    },
    describeState(s) {
      if (s.size === 0) return '{}';
      return `{${[...s.keys()].sort().map((k) => `${k}: ${show(s.get(k))}`).join(', ')}}`;
    },
  };
}
