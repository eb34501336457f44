// `raftkv` without a cluster: help, usage errors (exit 2, one line, no stack trace), an
// unreachable endpoint (exit 3, quickly) and a bad configuration field (exit 2, naming it).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { killAll, oneErrorLine, raftkv } from './helpers.js';

describe('raftkv usage and errors', () => {
  after(killAll);

  it('--help on every command, with examples and the exit codes', async () => {
    const top = await raftkv(['--help']);
    assert.equal(top.code, 0, top.stderr);
    for (const c of ['start', 'dev', 'kv', 'admin', 'bench']) assert.match(top.stdout, new RegExp(`\\n  ${c}\\b`));
    assert.match(top.stdout, /Exit codes:\n\s+0\s+ok/);
    for (const cmd of [['kv', 'get'], ['kv', 'cas'], ['kv', 'lock'], ['admin', 'status'], ['admin', 'add-peer'], ['bench'], ['start'], ['dev']]) {
      const r = await raftkv([...cmd, '--help']);
      assert.equal(r.code, 0, `${cmd.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Examples:/, cmd.join(' '));
    }
    const addPeer = await raftkv(['admin', 'add-peer', '--help']);
    assert.match(addPeer.stdout, /must host the region/);
  });

  it('usage mistakes exit 2 with one line and no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['kv', 'scan', '--limt', '3'], /unknown option '--limt' \(did you mean --limit\?\)/],
      [['kv', 'get'], /missing required argument 'key'/],
      [['kv', 'scan', '--limit', 'x'], /--limit must be an integer/],
      [['kv', 'get', 'k', '--consistency', 'strong'], /Allowed choices are linearizable, lease, stale/],
      [['kv', 'cas', 'k', 'only-one'], /cas needs <key> <expected> <new>/],
      [['kv', 'put', 'k', 'v', 'extra'], /too many arguments/],
      [['kv', 'get', 'k', '--endpoints', 'localhost'], /bad endpoint 'localhost'/],
      [['nosuch'], /unknown command 'nosuch'/],
      [['bench', '--workload', 'delete'], /--workload takes put, get, mix/],
      [['dev', '--port', '70000'], /--port must be a port number/],
    ];
    for (const [args, re] of cases) {
      const r = await raftkv(args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr: ${r.stderr}`);
      assert.match(oneErrorLine(r.stderr), re, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
  });

  it('an unreachable endpoint exits 3 within the timeout, with one line', async () => {
    for (const args of [['kv', 'get', 'k'], ['kv', 'put', 'k', 'v'], ['admin', 'status'], ['bench', '--seconds', '1']]) {
      const r = await raftkv([...args, '--endpoints', '127.0.0.1:1', '--timeout-ms', '300']);
      assert.equal(r.code, 3, `${args.join(' ')}: exit ${r.code}, stderr: ${r.stderr}`);
      assert.match(oneErrorLine(r.stderr), /UNREACHABLE|DEADLINE_EXCEEDED|no store answered/);
      assert.ok(r.ms < 5000, `${args.join(' ')} took ${r.ms} ms`);
    }
    // RAFTKV_ENDPOINTS is the default.
    const env = await raftkv(['kv', 'get', 'k', '--timeout-ms', '300'], { env: { RAFTKV_ENDPOINTS: '127.0.0.1:1' } });
    assert.equal(env.code, 3, env.stderr);
    assert.match(env.stderr, /127\.0\.0\.1:1/);
  });

  it('start: a bad configuration field exits 2 with one line naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkv-cli-'));
    try {
      const file = join(dir, 'node.yaml');
      writeFileSync(file, ['nodeId: n1', 'listen: 127.0.0.1:7391', 'dataDir: ./d', 'peers:', '  - { id: n1, address: "127.0.0.1:7391" }', 'raft:', '  electionTimeout: 1000', ''].join('\n'));
      const r = await raftkv(['start', '--config', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneErrorLine(r.stderr), /node\.yaml: raft\.electionTimeout: unknown field \(did you mean 'electionTimeoutMs'\?\)/);
      const missing = await raftkv(['start', '--config', join(dir, 'nope.yaml')]);
      assert.equal(missing.code, 2);
      assert.match(oneErrorLine(missing.stderr), /cannot read the configuration file/);
      const noConfig = await raftkv(['start']);
      assert.equal(noConfig.code, 2);
      assert.match(oneErrorLine(noConfig.stderr), /required option '--config <file>'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
