// Helpers for transport tests: a seeded random Message generator, a capturing logger, raw
// sockets that speak (or garble) the frame protocol, and waitFor.

import * as net from 'node:net';
import { seededRand } from '../../src/raft/core/random.js';
import { EntryType, MessageType } from '../../src/raft/core/types.js';
import type { ConfState, Entry, Message } from '../../src/raft/core/types.js';
import { FrameDecoder } from '../../src/transport/frame.js';
import type { Frame } from '../../src/transport/frame.js';
import type { Logger, LogFields } from '../../src/transport/logger.js';

export const ALL_TYPES: readonly MessageType[] = Object.values(MessageType);

type R = ReturnType<typeof seededRand>;

const ALPHABET = ['a', 'b', 'z', '0', '9', '-', '_', ' ', 'é', 'ß', '中', '文', '😀', '\u0000', '~'];

export function randString(r: R, maxLen: number): string {
  const n = r.int(maxLen + 1);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[r.int(ALPHABET.length)]!;
  return s;
}

export function randInt(r: R): number {
  switch (r.int(6)) {
    case 0:
      return 0;
    case 1:
      return r.int(1000);
    case 2:
      return 0xffffffff - r.int(3);
    case 3:
      return 0x100000000 + r.int(1000);
    case 4:
      return Number.MAX_SAFE_INTEGER - r.int(3);
    default:
      return Math.floor(r.float() * Number.MAX_SAFE_INTEGER);
  }
}

export function randBytes(r: R, maxLen: number): Uint8Array {
  const b = new Uint8Array(r.int(maxLen + 1));
  for (let i = 0; i < b.length; i++) b[i] = r.int(256);
  return b;
}

function randIds(r: R): string[] {
  return Array.from({ length: r.int(4) }, () => randString(r, 6));
}

export function randConfState(r: R): ConfState {
  return { voters: randIds(r), votersOutgoing: randIds(r), learners: randIds(r), learnersNext: randIds(r), autoLeave: r.int(2) === 1 };
}

export function randEntry(r: R): Entry {
  return { term: randInt(r), index: randInt(r), type: r.int(2) === 0 ? EntryType.Normal : EntryType.ConfChange, data: randBytes(r, 300) };
}

/** A random message of `type` (random if omitted); each optional field present half the time. */
export function randMessage(r: R, type: MessageType = ALL_TYPES[r.int(ALL_TYPES.length)]!): Message {
  const m: Record<string, unknown> = { type, from: randString(r, 8), to: randString(r, 8), term: randInt(r) };
  const maybe = (): boolean => r.int(2) === 0;
  if (maybe()) m.logTerm = randInt(r);
  if (maybe()) m.index = randInt(r);
  if (maybe()) m.commit = randInt(r);
  if (maybe()) m.reject = maybe();
  if (maybe()) m.rejectHint = randInt(r);
  if (maybe()) m.rejectHintTerm = randInt(r);
  if (maybe()) m.entries = Array.from({ length: r.int(6) }, () => randEntry(r));
  if (r.int(4) === 0) m.snapshot = { meta: { index: randInt(r), term: randInt(r), confState: randConfState(r) }, data: randBytes(r, 2000) };
  if (maybe()) m.context = randString(r, 40);
  if (maybe()) m.transfer = maybe();
  if (maybe()) m.transferee = randString(r, 8);
  if (maybe()) m.lease = maybe();
  return m as unknown as Message;
}

export function appendMessage(from: string, to: string, nEntries: number, size: number, index = 100): Message {
  const data = new Uint8Array(size).fill(7);
  const entries: Entry[] = [];
  for (let i = 0; i < nEntries; i++) entries.push({ term: 3, index: index + 1 + i, type: EntryType.Normal, data });
  return { type: MessageType.App, from, to, term: 3, logTerm: 3, index, commit: index, entries };
}

export function heartbeat(from: string, to: string, commit = 1): Message {
  return { type: MessageType.Heartbeat, from, to, term: 3, commit };
}

export interface LogLine {
  level: 'warn' | 'info' | 'debug';
  msg: string;
  fields: LogFields | undefined;
}

export class CaptureLogger implements Logger {
  readonly lines: LogLine[] = [];
  warn(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  info(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  debug(msg: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  warnings(): LogLine[] {
    return this.lines.filter((l) => l.level === 'warn');
  }
  has(level: LogLine['level'], re: RegExp): boolean {
    return this.lines.some((l) => l.level === level && (re.test(l.msg) || re.test(JSON.stringify(l.fields ?? {}))));
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A raw client socket that collects the frames the server sends back. */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  closed = false;
  readonly closedP: Promise<void>;
  readonly connected: Promise<void>;
  private readonly decoder = new FrameDecoder((f) => this.frames.push({ ...f, payload: f.payload.slice() }));

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.connected = new Promise((r) => this.socket.once('connect', () => r()));
    this.socket.on('data', (c: Buffer) => {
      try {
        this.decoder.push(c);
      } catch {
        // the test looks at frames
      }
    });
    this.socket.on('error', () => {});
    this.closedP = new Promise((r) =>
      this.socket.on('close', () => {
        this.closed = true;
        r();
      }),
    );
  }

  write(b: Uint8Array): void {
    this.socket.write(b);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
