// The local 3-node raftkv KV cluster of `npm start` and `raftkv dev`: three store processes
// (lmdb engine, fsync on) with data under ./data/dev (or a temporary directory with
// ephemeral). It prints each store's address, shows the leader of every region as it changes
// and the load it serves, writes and reads a few keys to show it works, and says how to talk
// to it. SIGINT/SIGTERM (Ctrl-C) stop everything; the process then exits.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '../kv/client/index.js';
import { KvTag, type StatsReply } from '../kv/protocol.js';
import { decodeEnvelope, encodeEnvelope } from '../raft/runtime/rpc-router.js';
import { TcpTransport } from '../transport/tcp-transport.js';

const STORE_MAIN = fileURLToPath(new URL('../kv/store/store-main.js', import.meta.url));

export interface DevOptions {
  /** Data in a temporary directory, removed on exit. */
  ephemeral: boolean;
  /** The stores listen on 127.0.0.1:port .. port+2. */
  port: number;
  /** Data directory (when not ephemeral). */
  data: string;
  /** Stop by itself after this long (tests). */
  exitAfterMs?: number;
  /** Do not print the requests served. */
  quiet: boolean;
  /** How to show the CLI in the hints ('raftkv' or 'node dist/src/cli/main.js'). */
  cliName?: string;
}

/** Runs the cluster until a signal (or exitAfterMs); ends the process with exit code 0, or 1 if it cannot start. */
export async function runDev(o: DevOptions): Promise<never> {
  const basePort = o.port;
  const root = o.ephemeral ? mkdtempSync(join(tmpdir(), 'raftkv-dev-')) : resolve(o.data);
  mkdirSync(root, { recursive: true });
  const ids = ['n1', 'n2', 'n3'];
  const addr = (i: number): string => `127.0.0.1:${basePort + i}`;
  /** Each store's HTTP port (dashboard, /metrics, /health, /ready): the store port + 1000. */
  const httpAddr = (i: number): string => `127.0.0.1:${basePort + 1000 + i}`;
  const peers = ids.map((id, i) => `${id}=${addr(i)}`).join(',');
  const say = (line: string): void => console.log(`${new Date().toISOString().slice(11, 19)}  ${line}`);

  const children = new Map<string, ChildProcess>();
  let stopping = false;

  function startStore(id: string, i: number): Promise<void> {
    const args = [STORE_MAIN, '--id', id, '--listen', addr(i), '--peers', peers, '--data', join(root, id), '--split-keys', 'g,p', '--tick-ms', '100', '--election-timeout-ms', '1000', '--metrics-listen', httpAddr(i), '--pd'];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(id, p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 8192) err = err.slice(-8192);
    });
    p.once('exit', (code, signal) => {
      children.delete(id);
      if (!stopping) say(`store ${id} exited (${signal ?? `code ${code}`})${err ? `: ${err.trim().split('\n').at(-1)}` : ''}`);
    });
    return new Promise((resolveReady, reject) => {
      let out = '';
      p.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('READY ')) resolveReady();
      });
      p.once('exit', (code) => reject(new Error(`store ${id} exited with ${code} before it was ready: ${err.trim().split('\n').at(-1) ?? ''}`)));
    });
  }

  async function stopAll(code: number): Promise<never> {
    stopping = true;
    const waits = [...children.values()].map((p) => new Promise<void>((r) => (p.exitCode !== null ? r() : p.once('exit', () => r()))));
    for (const p of children.values()) p.kill('SIGTERM');
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5000))]);
    for (const p of children.values()) p.kill('SIGKILL');
    if (o.ephemeral) rmSync(root, { recursive: true, force: true });
    process.exit(code);
  }
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  say(`raftkv dev: 3 KV stores, data in ${root}${o.ephemeral ? ' (removed on exit)' : ''}`);
  try {
    await Promise.all(ids.map((id, i) => startStore(id, i)));
  } catch (e) {
    say(`cannot start the cluster: ${(e as Error).message}`);
    say(`(is another cluster using ports ${basePort}-${basePort + 2}? try --port)`);
    await stopAll(1);
  }
  for (const [i, id] of ids.entries()) say(`store ${id} listening on ${addr(i)}; dashboard and metrics on http://${httpAddr(i)}/`);

  // Show it works: a few writes and reads through the client.
  const endpoints = ids.map((_, i) => addr(i));
  const kv = createClient({ endpoints, timeoutMs: 15_000 });
  try {
    await kv.put('hello', 'world');
    const seq = await kv.getSequence('dev-sequence', 1);
    say(`put hello=world, get hello -> ${(await kv.get('hello'))?.toString()}; sequence dev-sequence handed out ${seq.start}`);
  } catch (e) {
    say(`demo writes failed: ${(e as Error).message}`);
  }
  await kv.close();
  say('talk to it from code:');
  console.log(`
    import { createClient } from 'raftkv';
    const kv = createClient({ endpoints: ${JSON.stringify(endpoints)} });
    await kv.put('greeting', 'hi'); console.log((await kv.get('greeting'))?.toString());
`);
  // The CLI's default endpoints are the default ports; other ports need --endpoints.
  const cli = o.cliName ?? 'raftkv';
  const ep = basePort === 7201 ? '' : `    export RAFTKV_ENDPOINTS=${endpoints.join(',')}\n`;
  say('or from the shell:');
  console.log(`
${ep}    ${cli} kv put greeting hi
    ${cli} kv get greeting
    ${cli} admin status
`);
  say('watching the cluster (leaders per region, requests served); Ctrl-C stops it');

  // Watch: leaders per region and requests served, from each store's Stats.
  const watcher = new TcpTransport({ nodeId: `dev-${process.pid}`, logger: { debug() {}, info() {}, warn() {} } });
  ids.forEach((id, i) => watcher.setPeer(id, '127.0.0.1', basePort + i));
  let lastLeaders = '';
  let lastCalls = 0;
  const watch = setInterval(() => {
    // While stopping, the stores going away are not news ("leaders: none yet").
    if (stopping) return;
    void (async () => {
      const replies = await Promise.all(
        ids.map((id) =>
          watcher
            .request(id, '', encodeEnvelope(KvTag.Stats, {}), { timeoutMs: 1000 })
            .then((r) => decodeEnvelope<StatsReply>(r).header)
            .catch(() => undefined),
        ),
      );
      if (stopping) return;
      const leaders = new Map<string, string>();
      let calls = 0;
      for (const r of replies) {
        if (!r) continue;
        for (const g of r.regions) if (g.role === 'leader') leaders.set(g.id, `${r.storeId} (term ${g.term}, applied ${g.appliedIndex})`);
        for (const op of r.ops) calls += op.calls;
      }
      const view = [...leaders.entries()].sort().map(([id, l]) => `region ${id}: ${l}`).join('; ');
      const leaderView = view.replace(/, applied \d+/g, '');
      if (leaderView !== lastLeaders) {
        say(`leaders: ${view || 'none yet'}`);
        lastLeaders = leaderView;
      }
      if (calls !== lastCalls && !o.quiet) say(`requests served: ${calls} (+${calls - lastCalls})`);
      lastCalls = calls;
    })();
  }, 1000);
  watch.unref();
  return new Promise<never>(() => {
    if (o.exitAfterMs !== undefined) {
      setTimeout(() => {
        clearInterval(watch);
        void watcher.close().then(() => stopAll(0));
      }, o.exitAfterMs);
    } else {
      setInterval(() => {}, 1 << 30);
    }
  });
}
