// Transport benchmark: Raft messages per second over loopback TCP.
//
//   node dist/bench/transport.js            sender and receiver in two processes (default)
//   node dist/bench/transport.js --inproc   both transports in this process
//   node dist/bench/transport.js --quick    smaller counts
//
// Phases: the codec alone (encode + decode, no IO), then AppendEntries with 64 x 256 B entries
// and small heartbeats through TcpTransport. The sender keeps its queue full (retrying on
// QUEUE_FULL on the next turn, so nothing is lost); the receiver answers the last message, and
// per-connection ordering means everything before it has arrived.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EntryType, MessageType } from '../src/raft/core/types.js';
import type { Entry, Message } from '../src/raft/core/types.js';
import { decodeMessage, encodeMessage } from '../src/transport/raft-codec.js';
import { noopLogger } from '../src/transport/logger.js';
import { TcpTransport } from '../src/transport/tcp-transport.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const GROUP = 'region-1';

function appendEntries(from: string, to: string, index: number): Message {
  const data = new Uint8Array(256).fill(0x5a);
  const entries: Entry[] = [];
  for (let i = 0; i < 64; i++) entries.push({ term: 7, index: index + 1 + i, type: EntryType.Normal, data });
  return { type: MessageType.App, from, to, term: 7, logTerm: 7, index, commit: index, entries };
}

function heartbeat(from: string, to: string): Message {
  return { type: MessageType.Heartbeat, from, to, term: 7, commit: 12345 };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function codecBench(name: string, msg: Message, n: number): void {
  let bytes = 0;
  for (let i = 0; i < Math.min(n, 2000); i++) decodeMessage(encodeMessage(msg)); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const b = encodeMessage(msg);
    bytes += b.length;
    const m = decodeMessage(b);
    if (m.term !== msg.term) throw new Error('bad decode');
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`codec  ${name.padEnd(22)} ${fmt(n / s).padStart(12)} msg/s (encode+decode)  ${(bytes / n).toFixed(0)} B/msg`);
}

/** Receiver: counts messages, answers the one with context 'end' with a one-way message back. */
async function receiver(): Promise<{ t: TcpTransport; port: number }> {
  const t = new TcpTransport({ nodeId: 'b', logger: noopLogger, maxQueueBytes: 256 * 1024 * 1024 });
  let count = 0;
  t.registerGroup(GROUP, {
    onMessage(msg) {
      count++;
      if (msg.context === 'end') {
        t.send(GROUP, { type: MessageType.AppResp, from: 'b', to: 'a', term: 7, index: count, context: 'end' });
        count = 0;
      }
    },
  });
  const { port } = await t.listen();
  return { t, port };
}

async function run(name: string, a: TcpTransport, msg: Message, n: number, done: () => Promise<number>): Promise<void> {
  const last: Message = { ...msg, context: 'end' };
  const t0 = process.hrtime.bigint();
  const received = done();
  let sent = 0;
  let full = 0;
  while (sent < n) {
    for (let i = 0; i < 512 && sent < n; i++) {
      const st = a.trySend(GROUP, sent === n - 1 ? last : msg);
      if (st === 'QUEUE_FULL') {
        full++;
        break;
      }
      if (st !== 'OK') throw new Error(`send failed: ${st}`);
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  const got = await received;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (got !== n) throw new Error(`receiver counted ${got} of ${n}`);
  const size = encodeMessage(msg).length;
  console.log(
    `tcp    ${name.padEnd(22)} ${fmt(n / s).padStart(12)} msg/s  ${((n * size) / s / 1e6).toFixed(0).padStart(5)} MB/s  (${fmt(n)} msgs in ${s.toFixed(2)} s, ${full} queue-full waits)`,
  );
}

async function sender(port: number): Promise<TcpTransport> {
  const a = new TcpTransport({ nodeId: 'a', logger: noopLogger, maxQueueMessages: 20_000, maxQueueBytes: 16 * 1024 * 1024 });
  let waiter: ((n: number) => void) | null = null;
  a.registerGroup(GROUP, {
    onMessage(msg) {
      if (msg.context === 'end' && waiter) {
        const w = waiter;
        waiter = null;
        w(msg.index ?? 0);
      }
    },
  });
  await a.listen();
  a.setPeer('b', '127.0.0.1', port);
  const done = (): Promise<number> => new Promise((r) => (waiter = r));
  const nApp = quick ? 3_000 : 20_000;
  const nHb = quick ? 50_000 : 500_000;
  await run('warm-up', a, appendEntries('a', 'b', 1000), 2000, done);
  await run('append 64x256B', a, appendEntries('a', 'b', 1000), nApp, done);
  await run('heartbeat', a, heartbeat('a', 'b'), nHb, done);
  return a;
}

async function main(): Promise<void> {
  if (args.has('--child')) {
    const { port } = await receiver();
    process.send!({ port });
    process.on('disconnect', () => process.exit(0));
    return;
  }
  console.log(`node ${process.version}, ${args.has('--inproc') ? 'one process' : 'two processes'}`);
  codecBench('append 64x256B', appendEntries('a', 'b', 1000), quick ? 5_000 : 30_000);
  codecBench('heartbeat', heartbeat('a', 'b'), quick ? 100_000 : 1_000_000);
  if (args.has('--inproc')) {
    const b = await receiver();
    const a = await sender(b.port);
    await a.close();
    await b.t.close();
    return;
  }
  const child = fork(fileURLToPath(import.meta.url), ['--child'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (c) => reject(new Error(`receiver exited with ${c}`)));
  });
  const a = await sender(port);
  await a.close();
  child.disconnect();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
