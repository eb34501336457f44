// An example state machine a library user would copy: a replicated map of registers and
// counters with snapshots. Commands are small JSON objects:
//   {"op":"set","key":"k","value":"v"}   -> result: the previous value
//   {"op":"add","key":"k","delta":1}     -> result: the new value
// Queries: {"op":"get","key":"k"} -> the value; {"op":"stats"} -> {"entries":N,"keys":K,"digest":H}
// Results and query answers are JSON bytes.

import type { CommittedEntry, SnapshotImage, StateMachine } from '../raft/runtime/state-machine.js';

type Command = { op: 'set'; key: string; value: string } | { op: 'add'; key: string; delta: number };

const enc = new TextEncoder();
const dec = new TextDecoder();

export class RegisterStateMachine implements StateMachine<Uint8Array> {
  private readonly values = new Map<string, string | number>();
  /** Count of user entries applied. */
  private entries = 0;
  /** Order-sensitive digest of everything applied (replicas must agree on it). */
  private digest = 0;
  private appliedIndex = 0;

  /** Leader, before logging: malformed commands are refused and never reach the log. */
  startTransaction(data: Uint8Array): void {
    if (data[0] !== 0x7b /* { */) return; // opaque payloads are accepted as they are
    let cmd: { op?: unknown; key?: unknown };
    try {
      cmd = JSON.parse(dec.decode(data)) as { op?: unknown; key?: unknown };
    } catch {
      throw new Error('command is not valid JSON');
    }
    if (cmd.op !== 'set' && cmd.op !== 'add') throw new Error(`unknown command op ${JSON.stringify(cmd.op)} (want "set" or "add")`);
    if (typeof cmd.key !== 'string' || cmd.key === '') throw new Error('command needs a non-empty string key');
  }

  apply(batch: readonly CommittedEntry[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of batch) {
      this.entries++;
      this.appliedIndex = e.index;
      this.digest = mix(this.digest, e.data);
      // Payloads that are not JSON objects (benchmarks) are counted and digested only.
      let cmd: Command | undefined;
      if (e.data[0] === 0x7b /* { */) {
        try {
          cmd = JSON.parse(dec.decode(e.data)) as Command;
        } catch {
          cmd = undefined;
        }
      }
      if (!cmd) {
        out.push(EMPTY);
        continue;
      }
      if (cmd.op === 'set') {
        const prev = this.values.get(cmd.key);
        this.values.set(cmd.key, cmd.value);
        out.push(enc.encode(JSON.stringify(prev ?? null)));
      } else if (cmd.op === 'add') {
        const prev = this.values.get(cmd.key);
        const next = (typeof prev === 'number' ? prev : 0) + (Number(cmd.delta) || 0);
        this.values.set(cmd.key, next);
        out.push(enc.encode(JSON.stringify(next)));
      } else {
        out.push(EMPTY);
      }
    }
    return out;
  }

  query(request: Uint8Array): Uint8Array {
    const q = JSON.parse(dec.decode(request)) as { op: string; key?: string };
    if (q.op === 'get') return enc.encode(JSON.stringify(this.values.get(q.key ?? '') ?? null));
    if (q.op === 'stats') return enc.encode(JSON.stringify({ entries: this.entries, keys: this.values.size, digest: this.digest, appliedIndex: this.appliedIndex }));
    throw new Error(`unknown query op ${q.op}`);
  }

  saveSnapshot(): SnapshotImage {
    const image = { values: [...this.values], entries: this.entries, digest: this.digest };
    return { index: this.appliedIndex, data: enc.encode(JSON.stringify(image)) };
  }

  loadSnapshot(image: SnapshotImage): void {
    const s = JSON.parse(dec.decode(image.data)) as { values: Array<[string, string | number]>; entries: number; digest: number };
    this.values.clear();
    for (const [k, v] of s.values) this.values.set(k, v);
    this.entries = s.entries;
    this.digest = s.digest;
    this.appliedIndex = image.index;
  }
}

const EMPTY = new Uint8Array(0);

/** FNV-1a over the previous digest and the entry bytes. */
function mix(h: number, data: Uint8Array): number {
  let x = (h ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < data.length; i++) x = Math.imul(x ^ data[i]!, 0x01000193) >>> 0;
  return x;
}
