// The run's trace: a ring buffer of readable events (the last ones are printed when a run fails)
// and a running hash over every event ever recorded (two runs of one seed must agree on it).
// Texts may be given lazily (a function) so that the hot path does not format strings nobody will
// read; the hash then covers the numbers the caller passes instead.

import { type Entry, type Message, MessageType } from '../raft/core/types.js';
import { HASH_SEED, mix, mixNumber, mixString } from './hash.js';

export type Text = string | (() => string);

export interface TraceEvent {
  readonly time: number;
  readonly node: string;
  readonly kind: string;
  readonly text: Text;
  /** Routine traffic (heartbeats) left out of failure reports. */
  readonly quiet?: boolean;
}

export type TraceListener = (e: TraceEvent, text: string) => void;

export class Trace {
  private readonly buf: (TraceEvent | undefined)[];
  private next = 0;
  private count = 0;
  private h = HASH_SEED;
  private listeners: TraceListener[] = [];

  constructor(
    private readonly clock: { readonly now: number },
    readonly capacity = 256,
  ) {
    this.buf = new Array<TraceEvent | undefined>(capacity);
  }

  /** Total number of events recorded. */
  get total(): number {
    return this.count;
  }

  /** Hash over all events so far (time, node, kind and text or caller-supplied numbers). */
  get hash(): number {
    return this.h >>> 0;
  }

  listen(fn: TraceListener): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  /**
   * Records an event. When `text` is a function, `hashParts` must identify the event for the
   * determinism hash (a string text is hashed itself).
   */
  add(node: string, kind: string, text: Text, ...hashParts: number[]): void {
    this.record(node, kind, text, false, hashParts);
  }

  private record(node: string, kind: string, text: Text, quiet: boolean, hashParts: readonly number[]): void {
    const time = this.clock.now;
    let h = mixNumber(this.h, time);
    h = mixString(h, node);
    h = mixString(h, kind);
    if (typeof text === 'string') h = mixString(h, text);
    for (const p of hashParts) h = mix(h, p);
    this.h = h;
    const e: TraceEvent = quiet ? { time, node, kind, text, quiet } : { time, node, kind, text };
    this.buf[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
    if (this.listeners.length > 0) {
      const s = textOf(e);
      for (const l of this.listeners) l(e, s);
    }
  }

  /** Records a message event (send, deliver, drop...) without formatting it now. */
  msg(kind: string, m: Message, note = ''): void {
    const quiet = m.type === MessageType.Heartbeat || m.type === MessageType.HeartbeatResp;
    const node = kind === 'deliver' ? m.to : m.from;
    this.record(node, kind, () => formatMessage(m) + (note ? ` ${note}` : ''), quiet, [...messageHashParts(m), note.length]);
  }

  /** The last `n` events (leaving out quiet ones unless `all`), oldest first. */
  last(n: number, all = true): TraceEvent[] {
    const out: TraceEvent[] = [];
    const k = Math.min(this.count, this.capacity);
    for (let i = 1; i <= k && out.length < n; i++) {
      const e = this.buf[(this.next - i + this.capacity * 2) % this.capacity];
      if (e && (all || !e.quiet)) out.push(e);
    }
    return out.reverse();
  }

  /** The last `n` events without heartbeat traffic, formatted one per line. */
  format(n: number): string {
    const evs = this.last(n, false);
    const from = evs.length > 0 ? evs[0]!.time : this.clock.now;
    const quiet = this.last(this.capacity).filter((e) => e.quiet && e.time >= from).length;
    const lines = evs.map(formatEvent);
    if (quiet > 0) lines.push(`(${quiet} heartbeat messages in this period not shown)`);
    return lines.join('\n');
  }
}

export function textOf(e: TraceEvent): string {
  return typeof e.text === 'string' ? e.text : e.text();
}

export function formatTime(t: number): string {
  return t.toFixed(2).padStart(9);
}

export function formatEvent(e: TraceEvent): string {
  return `${formatTime(e.time)}ms ${e.node.padEnd(4)} ${e.kind.padEnd(10)} ${textOf(e)}`;
}

const TYPE_CODES: Record<string, number> = {};
function typeCode(t: string): number {
  let c = TYPE_CODES[t];
  if (c === undefined) {
    c = mixString(HASH_SEED, t);
    TYPE_CODES[t] = c;
  }
  return c;
}

function messageHashParts(m: Message): number[] {
  return [
    typeCode(m.type),
    mixString(HASH_SEED, m.to),
    m.term,
    m.index ?? -1,
    m.logTerm ?? -1,
    m.commit ?? -1,
    m.entries?.length ?? 0,
    m.reject ? 1 : 0,
  ];
}

export function formatEntries(ents: readonly Entry[] | undefined): string {
  if (!ents || ents.length === 0) return '';
  const a = ents[0]!;
  const b = ents[ents.length - 1]!;
  return a === b ? `[${a.index}@t${a.term}]` : `[${a.index}@t${a.term}..${b.index}@t${b.term}]`;
}

export function formatMessage(m: Message): string {
  let s = `${m.type} ${m.from}->${m.to} t${m.term}`;
  if (m.index !== undefined) s += ` i${m.index}`;
  if (m.logTerm !== undefined) s += ` lt${m.logTerm}`;
  if (m.entries && m.entries.length > 0) s += ` ents${formatEntries(m.entries)}`;
  if (m.commit !== undefined) s += ` c${m.commit}`;
  if (m.reject) s += ` REJECT${m.rejectHint !== undefined ? `(hint ${m.rejectHint}/t${m.rejectHintTerm ?? '?'})` : ''}`;
  if (m.snapshot) s += ` snap@${m.snapshot.meta.index}/t${m.snapshot.meta.term}`;
  if (m.context) s += ` ctx=${m.context}`;
  if (m.transfer) s += ' transfer';
  if (m.transferee) s += ` to=${m.transferee}`;
  if (m.lease) s += ' lease';
  return s;
}
