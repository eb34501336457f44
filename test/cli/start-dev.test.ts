// `raftkv start --config` runs a store node and forwards SIGTERM to it; `raftkv dev` runs the
// local 3-node cluster of `npm start` and the CLI talks to it.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/verify/proc-cluster.js';
import { killAll, raftkv, raftkvBackground, threeFreePorts } from './helpers.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('raftkv start and dev', () => {
  const dirs: string[] = [];
  after(() => {
    killAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('start --config: serves, and SIGTERM stops the store gracefully', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-cli-start-'));
    dirs.push(dir);
    const port = await freePort();
    const file = join(dir, 'node1.yaml');
    writeFileSync(file, ['nodeId: n1', `listen: 127.0.0.1:${port}`, 'dataDir: ./data', 'engine: memory', 'peers:', `  - { id: n1, address: "127.0.0.1:${port}" }`, ''].join('\n'));
    const node = raftkvBackground(['start', '--config', file]);
    await node.waitFor(/READY \{.*\}/, 20_000);
    const ready = JSON.parse(/READY (\{.*\})/.exec(node.output())![1]!) as { id: string; pid: number };
    assert.equal(ready.id, 'n1');
    assert.notEqual(ready.pid, node.proc.pid, 'the store runs in a child process');

    const endpoints = `127.0.0.1:${port}`;
    assert.equal((await raftkv(['kv', 'put', 'k', 'v', '--endpoints', endpoints])).code, 0);
    assert.equal((await raftkv(['kv', 'get', 'k', '--endpoints', endpoints])).stdout, 'v\n');

    const exited = new Promise<number | null>((r) => node.proc.once('exit', (c) => r(c)));
    node.proc.kill('SIGTERM');
    assert.equal(await exited, 0, node.output());
    assert.match(node.output(), /shutdown complete/);
    assert.equal(alive(ready.pid), false, 'the store process is gone');
  });

  it('pd-server: a placement driver process of its own; a store from YAML reports to it (pd.endpoints); the CLI talks to PD', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-cli-pd-'));
    dirs.push(dir);
    const bad = await raftkv(['pd-server', '--listen', '127.0.0.1:1', '--data', dir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^raftkv pd: --id is required/);
    const [pdPort, storePort] = [await freePort(), await freePort()];
    const pd = raftkvBackground(['pd-server', '--id', 'pd1', '--listen', `127.0.0.1:${pdPort}`, '--data', join(dir, 'pd1'), '--pd-warmup-ms', '300', '--log-level', 'warn']);
    await pd.waitFor(/READY \{.*\}/, 20_000);
    assert.equal((JSON.parse(/READY (\{.*\})/.exec(pd.output())![1]!) as { id: string }).id, 'pd1');
    const file = join(dir, 's1.yaml');
    writeFileSync(
      file,
      ['nodeId: s1', `listen: 127.0.0.1:${storePort}`, 'dataDir: ./s1', 'engine: memory', 'peers:', `  - { id: s1, address: "127.0.0.1:${storePort}" }`, 'pd:', `  endpoints: [{ id: pd1, address: "127.0.0.1:${pdPort}" }]`, '  heartbeatMs: 200', ''].join('\n'),
    );
    const store = raftkvBackground(['start', '--config', file]);
    await store.waitFor(/READY \{.*\}/, 20_000);
    // The store registers with its first heartbeat and PD learns region 1 from its leader.
    const pdEp = `127.0.0.1:${pdPort}`;
    let view: { code: number | null; stdout: string; stderr: string } | undefined;
    for (let i = 0; i < 50; i++) {
      view = await raftkv(['admin', 'pd', '--endpoints', pdEp, '--json']);
      if (view.code === 0 && /"leader": ?"s1"/.test(view.stdout)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(view!.code, 0, view!.stderr);
    const c = JSON.parse(view!.stdout) as { leader: string; stores: Array<{ id: string; address: string }>; regions: Array<{ region: { id: string; leader: string } }> };
    assert.equal(c.leader, 'pd1');
    assert.deepEqual(c.stores.map((s) => [s.id, s.address]), [['s1', `127.0.0.1:${storePort}`]]);
    assert.deepEqual(c.regions.map((r) => [r.region.id, r.region.leader]), [['1', 's1']]);
    // A client given only PD's address finds the store through PD's routes.
    assert.equal((await raftkv(['kv', 'put', 'k', 'v', '--endpoints', pdEp])).code, 0);
    assert.equal((await raftkv(['kv', 'get', 'k', '--endpoints', pdEp])).stdout, 'v\n');
    for (const p of [store, pd]) {
      const exited = new Promise<number | null>((r) => p.proc.once('exit', (code) => r(code)));
      p.proc.kill('SIGTERM');
      assert.equal(await exited, 0, p.output());
    }
  });

  it('dev --ephemeral --port: 3 stores the CLI can use, stopped by itself', { timeout: 60_000 }, async () => {
    const port = await threeFreePorts();
    const dev = raftkvBackground(['dev', '--ephemeral', '--port', String(port), '--exit-after-ms', '8000', '--quiet']);
    await dev.waitFor(/watching the cluster/, 30_000);
    assert.match(dev.output(), new RegExp(`export RAFTKV_ENDPOINTS=127\\.0\\.0\\.1:${port},`));
    const env = { RAFTKV_ENDPOINTS: [0, 1, 2].map((i) => `127.0.0.1:${port + i}`).join(',') };
    const get = await raftkv(['kv', 'get', 'hello'], { env });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, 'world\n', 'the demo write of the dev cluster');
    const status = await raftkv(['admin', 'stores'], { env });
    assert.equal(status.code, 0, status.stderr);
    for (const id of ['n1', 'n2', 'n3']) assert.match(status.stdout, new RegExp(`^${id}\\s+127\\.0\\.0\\.1:\\d+\\s+up`, 'm'));
    const code = await new Promise<number | null>((r) => (dev.proc.exitCode !== null ? r(dev.proc.exitCode) : dev.proc.once('exit', (c) => r(c))));
    assert.equal(code, 0, dev.output());
    assert.match(dev.output(), /leaders: region 1: n\d \(term \d+/);
  });
});
