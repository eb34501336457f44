// Running the built `raftkv` CLI as a child process, as a user or a script would, and a real
// 3-store cluster for it to talk to. Every process started here is tracked and stopped by PID.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { KV_STORE_MAIN, ProcCluster } from '../../src/verify/proc-cluster.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const live = new Set<ChildProcess>();

/** Runs `raftkv <args>`; kills it after `timeoutMs` (the result then has code null). */
export function raftkv(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const t0 = Date.now();
  const env = { ...process.env, ...(opts.env ?? {}) };
  // Tests name their endpoints; a developer's RAFTKV_ENDPOINTS must not leak in.
  if (!opts.env?.['RAFTKV_ENDPOINTS']) delete env['RAFTKV_ENDPOINTS'];
  delete env['RAFTKV_DEBUG'];
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  live.add(p);
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return new Promise((resolve) => {
    p.once('close', (code) => {
      clearTimeout(timer);
      live.delete(p);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Starts `raftkv <args>` in the background (stopped by stopAll). */
export function raftkvBackground(args: string[]): { proc: ChildProcess; output: () => string; waitFor: (re: RegExp, timeoutMs: number) => Promise<void> } {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(p);
  p.once('exit', () => live.delete(p));
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters) w();
  };
  p.stdout!.on('data', onData);
  p.stderr!.on('data', onData);
  return {
    proc: p,
    output: () => out,
    waitFor: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (re.test(out)) {
            clearTimeout(t);
            resolve();
          }
        };
        const t = setTimeout(() => reject(new Error(`no ${re} within ${timeoutMs} ms; output:\n${out}`)), timeoutMs);
        waiters.push(check);
        p.once('exit', (c) => {
          if (!re.test(out)) {
            clearTimeout(t);
            reject(new Error(`exited (${c}) before ${re}; output:\n${out}`));
          }
        });
        check();
      }),
  };
}

/** Kills every CLI process a test left running. */
export function killAll(): void {
  for (const p of live) if (p.exitCode === null) p.kill('SIGKILL');
  live.clear();
}

/** 3 store processes (memory engine) with regions [-inf,g) [g,p) [p,+inf); their endpoints. */
export async function startCluster(): Promise<{ cluster: ProcCluster; endpoints: string }> {
  const cluster = await ProcCluster.create(['s1', 's2', 's3'], ['--engine', 'memory', '--split-keys', 'g,p', '--tick-ms', '50', '--election-timeout-ms', '500'], { main: KV_STORE_MAIN });
  await cluster.startAll();
  return { cluster, endpoints: [...cluster.nodes.values()].map((n) => `127.0.0.1:${n.port}`).join(',') };
}

export async function stopCluster(cluster: ProcCluster | undefined): Promise<void> {
  if (!cluster) return;
  await Promise.all([...cluster.nodes.keys()].map((id) => cluster.terminate(id)));
  await cluster.stop();
}

/** A port p with p..p+2 (stores) and p+1000..p+1002 (their HTTP ports) free, below the ephemeral range. */
export async function threeFreePorts(): Promise<number> {
  const free = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 10000);
    let ok = true;
    for (const q of [p, p + 1, p + 2, p + 1000, p + 1001, p + 1002]) ok = ok && (await free(q));
    if (ok) return p;
  }
}

/** Retries `fn` until it returns true or the time is up. */
export async function eventually(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

/** No stack trace and exactly one `raftkv: ` line. */
export function oneErrorLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  if (lines.length !== 1 || !lines[0]!.startsWith('raftkv: ') || /\n\s+at /.test(stderr)) throw new Error(`expected one 'raftkv: ' line on stderr, got:\n${stderr}`);
  return lines[0]!;
}
