// Runs real raftkv node processes on 127.0.0.1 for tests, benchmarks and the verifier, and stops
// only the processes it started, by PID. Faults: kill -9, SIGSTOP/SIGCONT, and blocked links
// through the nodes' fault-injection file (src/server/fault-injection.ts).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RaftClient } from '../client/raft-client.js';

const MAIN = fileURLToPath(new URL('../server/node-main.js', import.meta.url));
/** The KV store process (same flags plus the store's own: see src/kv/store/store-main.ts). */
export const KV_STORE_MAIN = fileURLToPath(new URL('../kv/store/store-main.js', import.meta.url));
/** A placement driver node on its own (src/pd/pd-main.ts). */
export const PD_MAIN = fileURLToPath(new URL('../pd/pd-main.js', import.meta.url));

/**
 * A free port below the kernel's ephemeral range (32768+ on Linux). Ports inside that range can
 * be taken at any moment by an outgoing connection — including a peer dialing a node that is
 * not listening yet, which on loopback can connect to itself (TCP self-connect) and hold the
 * very port the node is about to bind.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

export interface ProcNode {
  readonly id: string;
  readonly port: number;
  readonly dataDir: string;
  proc: ChildProcess | undefined;
  stderr: string;
  /** The JSON of the node's last READY line (its id, address, pid). */
  ready?: Record<string, unknown>;
}

export class ProcCluster {
  readonly nodes = new Map<string, ProcNode>();
  readonly root: string;

  private constructor(
    private readonly extraArgs: string[],
    root: string,
    private readonly main: string,
  ) {
    this.root = root;
  }

  /** Where the nodes read their blocked links from (only with `faults`). */
  faultsFile: string | undefined;

  /** `opts.main`: the script each node runs (default the Raft register node; KV_STORE_MAIN for stores). */
  static async create(ids: string[], extraArgs: string[] = [], opts: { faults?: boolean; main?: string } = {}): Promise<ProcCluster> {
    const c = new ProcCluster(extraArgs, mkdtempSync(join(tmpdir(), 'raftkv-proc-')), opts.main ?? MAIN);
    if (opts.faults) {
      c.faultsFile = join(c.root, 'faults.json');
      c.writeFaults();
    }
    for (const id of ids) c.nodes.set(id, { id, port: await freePort(), dataDir: join(c.root, id), proc: undefined, stderr: '' });
    return c;
  }

  /** Registers one more node (a port and a data dir) without starting it, e.g. a store that joins later. */
  async addNode(id: string): Promise<void> {
    this.nodes.set(id, { id, port: await freePort(), dataDir: join(this.root, id), proc: undefined, stderr: '' });
  }

  private peersArg(): string {
    return [...this.nodes.values()].map((n) => `${n.id}=127.0.0.1:${n.port}`).join(',');
  }

  /**
   * Starts a node; resolves when it prints READY (rejects if it exits first). `withoutId`: no
   * --id and no --peers (a store that joins and gets its id from the placement driver).
   */
  start(id: string, args: string[] = [], o: { withoutId?: boolean } = {}): Promise<void> {
    const n = this.nodes.get(id)!;
    n.stderr = '';
    // RAFTKV_NODE_FLAGS passes extra Node flags to node processes (e.g. --cpu-prof for profiling).
    const flags = (process.env['RAFTKV_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
    const env = this.faultsFile ? { ...process.env, RAFTKV_FAULTS_FILE: this.faultsFile } : process.env;
    const idArgs = o.withoutId ? [] : ['--id', id, '--peers', this.peersArg()];
    const proc = spawn(process.execPath, [...flags, this.main, ...idArgs, '--listen', `127.0.0.1:${n.port}`, '--data', n.dataDir, ...this.extraArgs, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    n.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => (n.stderr += d.toString()));
    return new Promise((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /READY (\{.*\})\r?\n/.exec(out);
        if (m) {
          n.ready = JSON.parse(m[1]!) as Record<string, unknown>;
          resolve();
        }
      });
      proc.once('exit', (code) => reject(new Error(`node ${id} exited with ${code} before READY: ${n.stderr.trim()}`)));
    });
  }

  /** Runs a node expecting it to fail at start; resolves with its exit code and stderr. */
  startExpectingFailure(id: string): Promise<{ code: number | null; stderr: string }> {
    return this.start(id).then(
      () => {
        throw new Error(`node ${id} started but was expected to fail`);
      },
      () => ({ code: this.nodes.get(id)!.proc!.exitCode, stderr: this.nodes.get(id)!.stderr }),
    );
  }

  async startAll(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((id) => this.start(id)));
  }

  /** kill -9 */
  kill(id: string): Promise<void> {
    const n = this.nodes.get(id)!;
    const p = n.proc;
    n.proc = undefined;
    if (!p || p.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
      p.kill('SIGCONT'); // a paused process must run to die
    });
  }

  private faultState: { blocked: readonly string[]; slowSyncMs: Record<string, number> } = { blocked: [], slowSyncMs: {} };

  /** Replaces the set of blocked links ("a->b": what a sends to b is lost). */
  setBlocked(links: readonly string[]): void {
    this.faultState = { ...this.faultState, blocked: links };
    this.writeFaults();
  }

  /** Every fsync of `id` takes `ms` longer (0 heals): a slow disk or an fsync stall. */
  setSlowSync(id: string, ms: number): void {
    this.faultState = { ...this.faultState, slowSyncMs: { ...this.faultState.slowSyncMs, [id]: ms } };
    this.writeFaults();
  }

  private writeFaults(): void {
    if (!this.faultsFile) throw new Error('cluster created without faults');
    const tmp = `${this.faultsFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.faultState));
    renameSync(tmp, this.faultsFile);
  }

  /** SIGSTOP / SIGCONT: the process freezes (timers, sockets and all) and later resumes. */
  pause(id: string): void {
    this.nodes.get(id)?.proc?.kill('SIGSTOP');
  }

  resume(id: string): void {
    this.nodes.get(id)?.proc?.kill('SIGCONT');
  }

  /** Graceful stop (SIGTERM): the node finishes its write in progress and exits. */
  terminate(id: string): Promise<void> {
    const n = this.nodes.get(id)!;
    const p = n.proc;
    n.proc = undefined;
    if (!p || p.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      p.kill('SIGTERM');
    });
  }

  client(opts: { timeoutMs?: number } = {}): RaftClient {
    return new RaftClient({
      servers: [...this.nodes.values()].map((n) => ({ id: n.id, address: `127.0.0.1:${n.port}` })),
      timeoutMs: opts.timeoutMs ?? 10_000,
    });
  }

  async leader(client: RaftClient, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const n of this.nodes.values()) {
        if (!n.proc) continue;
        try {
          const s = await client.status(n.id);
          if (s['role'] === 'leader') return n.id;
        } catch {
          // not up yet
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no leader elected');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((id) => this.kill(id)));
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
export const parse = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T;
