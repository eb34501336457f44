import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAddress } from '../../src/config/address.js';
import { ConfigError, loadStoreConfig, parseStoreConfig } from '../../src/config/load.js';
import { parseByteSize } from '../../src/config/sizes.js';

// dist/test/config/ -> the repository root, where the example YAML files live in src/.
const examples = fileURLToPath(new URL('../../../src/config/examples/', import.meta.url));

const MiB = 1024 * 1024;

/** The smallest valid configuration; tests add or change lines. */
const MINIMAL = `
nodeId: n1
listen: 127.0.0.1:7201
dataDir: ./data/n1
peers:
  - { id: n1, address: "127.0.0.1:7201" }
`;

/** Parses `text` expecting a ConfigError; returns it for closer checks. */
function rejects(text: string, source = 'node.yaml'): ConfigError {
  try {
    parseStoreConfig(text, source);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_CONFIG');
    assert.equal(err.message.split('\n').length, err.problems.length, 'one message line per problem');
    return err;
  }
  assert.fail('the configuration was accepted');
}

test('the three example files describe one local cluster', async () => {
  const peers = [
    { id: 'n1', address: '127.0.0.1:7201' },
    { id: 'n2', address: '127.0.0.1:7202' },
    { id: 'n3', address: '127.0.0.1:7203' },
  ];
  for (const n of [1, 2, 3]) {
    const c = await loadStoreConfig(join(examples, `node${n}.yaml`));
    assert.equal(c.cluster, 'raftkv');
    assert.equal(c.nodeId, `n${n}`);
    assert.equal(c.listen, `127.0.0.1:720${n}`);
    assert.equal(c.dataDir, resolve(examples, `data/node${n}`), 'dataDir is relative to the file');
    assert.equal(c.engine, 'lmdb');
    assert.deepEqual(c.peers, peers);
    assert.deepEqual(c.regions, [
      { id: '1', startKey: '', endKey: 'g' },
      { id: '2', startKey: 'g', endKey: 'p' },
      { id: '3', startKey: 'p', endKey: '' },
    ]);
    assert.equal(c.raft.maxEntryBytes, 4 * MiB);
    assert.equal(c.server.maxPendingBytes, 64 * MiB);
    assert.equal(c.kv.maxValueBytes, MiB);
    assert.equal(c.metrics.listen, `127.0.0.1:930${n}`);
  }
});

test('every optional field gets its documented default', () => {
  const c = parseStoreConfig(MINIMAL, 'node.yaml', '/srv/raftkv');
  assert.deepEqual(c, {
    cluster: 'raftkv',
    nodeId: 'n1',
    listen: '127.0.0.1:7201',
    dataDir: resolve('/srv/raftkv/data/n1'),
    engine: 'lmdb',
    peers: [{ id: 'n1', address: '127.0.0.1:7201' }],
    regions: [{ id: '1', startKey: '', endKey: '' }],
    raft: {
      tickMs: 100,
      electionTimeoutMs: 1000,
      heartbeatIntervalMs: 100,
      snapshotEveryEntries: 100_000,
      snapshotMarginEntries: 1000,
      maxPendingProposals: 10_000,
      maxEntryBytes: 4 * MiB,
      preVote: true,
      checkQuorum: true,
      leaseReads: false,
    },
    server: { maxPendingRequests: 4096, maxPendingBytes: 64 * MiB, retryCacheExpiryMs: 60_000 },
    kv: { maxKeyBytes: 1978, maxValueBytes: MiB, splitMinKeys: 2 },
    metrics: {},
    log: { level: 'info', format: 'json' },
    pd: {
      enabled: false,
      heartbeatMs: 1000,
      scheduleIntervalMs: 1000,
      warmupMs: 3000,
      operatorTimeoutMs: 60_000,
      splitMaxKeys: 100_000,
      splitMaxBytes: 64 * MiB,
      storeDownAfterMs: 1_800_000,
      leaderBalanceTolerance: 1,
      replicaBalanceTolerance: 1,
      maxConcurrentMoves: 4,
    },
  });
});

test('pd: voters must be peers; a joining store does not list itself', () => {
  const bad = rejects(`${MINIMAL}pd: { enabled: true, voters: [n1, n9] }\n`);
  assert.deepEqual(bad.problems.map((p) => p.path), ['pd.voters[1]']);
  assert.match(bad.problems[0]!.message, /must be one of peers .*got 'n9'/);
  const self = rejects(`${MINIMAL}pd: { join: [{ id: n1, address: "127.0.0.1:7201" }] }\n`);
  assert.deepEqual(self.problems.map((p) => p.path), ['pd.join']);
  const ok = parseStoreConfig(`${MINIMAL}pd: { join: [{ id: s1, address: "10.0.0.1:7201" }], splitMaxKeys: 5000 }\n`);
  assert.deepEqual(ok.pd.join, [{ id: 's1', address: '10.0.0.1:7201' }]);
  assert.equal(ok.pd.splitMaxKeys, 5000);
});

test('pd.endpoints: PD in processes of its own; not with join or voters, not this node', () => {
  const ok = parseStoreConfig(`${MINIMAL}pd: { endpoints: [{ id: pd1, address: "10.0.0.9:2379" }] }\n`);
  assert.deepEqual(ok.pd.endpoints, [{ id: 'pd1', address: '10.0.0.9:2379' }]);
  const both = rejects(`${MINIMAL}pd: { endpoints: [{ id: pd1, address: "10.0.0.9:2379" }], join: [{ id: pd1, address: "10.0.0.9:2379" }] }\n`);
  assert.deepEqual(both.problems.map((p) => p.path), ['pd.endpoints']);
  const voters = rejects(`${MINIMAL}pd: { endpoints: [{ id: pd1, address: "10.0.0.9:2379" }], voters: [n1] }\n`);
  assert.deepEqual(voters.problems.map((p) => p.path), ['pd.voters']);
  const self = rejects(`${MINIMAL}pd: { endpoints: [{ id: n1, address: "127.0.0.1:7201" }] }\n`);
  assert.deepEqual(self.problems.map((p) => p.path), ['pd.endpoints']);
});

test('a section given in part keeps the defaults of the fields left out', () => {
  const c = parseStoreConfig(`${MINIMAL}raft: { tickMs: 50, leaseReads: true }\nlog: { format: pretty }\n`);
  assert.equal(c.raft.tickMs, 50);
  assert.equal(c.raft.leaseReads, true);
  assert.equal(c.raft.electionTimeoutMs, 1000);
  assert.deepEqual(c.log, { level: 'info', format: 'pretty' });
});

test('an absolute dataDir is kept; a YAML number id is read as text', () => {
  const c = parseStoreConfig(MINIMAL.replace('./data/n1', '/var/lib/raftkv').concat('regions: [{ id: 7 }]\n'));
  assert.equal(c.dataDir, resolve('/var/lib/raftkv'));
  assert.deepEqual(c.regions, [{ id: '7', startKey: '', endKey: '' }]);
});

test('byte sizes: numbers and strings with binary units', () => {
  assert.equal(parseByteSize('4096'), 4096);
  assert.equal(parseByteSize('4096B'), 4096);
  assert.equal(parseByteSize('512KiB'), 512 * 1024);
  assert.equal(parseByteSize('64 MiB'), 64 * MiB);
  assert.equal(parseByteSize('4mib'), 4 * MiB);
  assert.equal(parseByteSize('1.5GiB'), 1.5 * 1024 * MiB);
  for (const bad of ['', 'MiB', '4MB', '4 megabytes', '-1KiB', '0.5B', '1e3']) assert.equal(parseByteSize(bad), undefined, bad);

  const c = parseStoreConfig(`${MINIMAL}raft: { maxEntryBytes: "8 MiB" }\nserver: { maxPendingBytes: 1048576 }\nkv: { maxKeyBytes: 1KiB, maxValueBytes: 512KiB }\n`);
  assert.equal(c.raft.maxEntryBytes, 8 * MiB);
  assert.equal(c.server.maxPendingBytes, MiB);
  assert.equal(c.kv.maxKeyBytes, 1024);
  assert.equal(c.kv.maxValueBytes, 512 * 1024);
});

test('host:port addresses', () => {
  assert.deepEqual(parseAddress('127.0.0.1:7201'), { host: '127.0.0.1', port: 7201 });
  assert.deepEqual(parseAddress('[::1]:7201'), { host: '::1', port: 7201 });
  for (const bad of ['127.0.0.1', ':7201', 'h:0', 'h:65536', 'h:12x', '::1:7201', 'a b:1']) assert.equal(parseAddress(bad), undefined, bad);
});

test('an empty file lists every required field', () => {
  const err = rejects('');
  assert.deepEqual(err.problems, [
    { path: 'nodeId', message: 'is required' },
    { path: 'listen', message: 'is required' },
    { path: 'dataDir', message: 'is required' },
    { path: 'peers', message: 'is required' },
  ]);
});

test('missing nodeId', () => {
  const err = rejects(MINIMAL.replace('nodeId: n1\n', ''));
  assert.equal(err.message, 'node.yaml: nodeId: is required');
});

test('a bad nodeId says which characters are allowed', () => {
  const err = rejects(MINIMAL.replace('nodeId: n1', 'nodeId: "n 1"'));
  assert.match(err.message, /^node\.yaml: nodeId: must be 1 to 64 characters from A-Z a-z 0-9 _ \. -, got 'n 1'$/);
});

test('a listen port out of range', () => {
  const err = rejects(MINIMAL.replace('listen: 127.0.0.1:7201', 'listen: 127.0.0.1:70000'));
  assert.equal(err.message, `node.yaml: listen: must be "host:port" with a port from 1 to 65535, got '127.0.0.1:70000'`);
});

test('unknown fields are named, with a suggestion when one is close', () => {
  const err = rejects(`${MINIMAL}raft:\n  electionTimeout: 3000\nnodeid: n1\nmystery: 1\n`);
  assert.deepEqual(err.problems, [
    { path: 'raft.electionTimeout', message: "unknown field (did you mean 'electionTimeoutMs'?)" },
    { path: 'nodeid', message: "unknown field (did you mean 'nodeId'?)" },
    { path: 'mystery', message: 'unknown field' },
  ]);
  assert.match(err.message, /^node\.yaml: raft\.electionTimeout: unknown field \(did you mean 'electionTimeoutMs'\?\)$/m);
});

test('unknown fields inside list items are found too', () => {
  const err = rejects(MINIMAL.replace('address:', 'adress:'));
  assert.deepEqual(err.problems, [
    { path: 'peers[0].address', message: 'is required' },
    { path: 'peers[0].adress', message: "unknown field (did you mean 'address'?)" },
  ]);
});

test('duplicate peers: same id, same address', () => {
  const err = rejects(`${MINIMAL}  - { id: n1, address: "127.0.0.1:7202" }\n  - { id: n2, address: "127.0.0.1:7201" }\n`);
  assert.deepEqual(err.problems, [
    { path: 'peers[1].id', message: "duplicate peer id 'n1' (also peers[0])" },
    { path: 'peers[2].address', message: 'duplicate peer address 127.0.0.1:7201 (also peers[0])' },
  ]);
});

test('the peers must include this node, at the address it listens on', () => {
  const missing = rejects(MINIMAL.replace('nodeId: n1', 'nodeId: n9'));
  assert.equal(missing.message, "node.yaml: peers: must include this node (nodeId 'n9'); ids listed: 'n1'");
  const moved = rejects(MINIMAL.replace('listen: 127.0.0.1:7201', 'listen: 127.0.0.1:7209'));
  assert.equal(moved.message, "node.yaml: peers[0].address: this node's address 127.0.0.1:7201 does not match listen (127.0.0.1:7209)");
  // Listening on every interface matches the advertised address by port.
  assert.equal(parseStoreConfig(MINIMAL.replace('listen: 127.0.0.1:7201', 'listen: 0.0.0.0:7201')).listen, '0.0.0.0:7201');
});

const withRegions = (...lines: string[]): string => `${MINIMAL}regions:\n${lines.map((l) => `  - ${l}\n`).join('')}`;

test('overlapping regions: which two, and on which keys', () => {
  const err = rejects(withRegions('{ id: a, endKey: p }', '{ id: b, startKey: g, endKey: t }', '{ id: c, startKey: t }'));
  assert.deepEqual(err.problems, [{ path: 'regions[1]', message: "region 'a' ['', 'p') and region 'b' ['g', 't') overlap on the keys ['g', 'p')" }]);
});

test('a region after an unbounded one overlaps it', () => {
  const err = rejects(withRegions('{ id: a }', '{ id: b, startKey: m }'));
  assert.deepEqual(err.problems, [{ path: 'regions[1]', message: "region 'a' ['', +∞) and region 'b' ['m', +∞) overlap on the keys ['m', +∞)" }]);
});

test('gaps between regions, before the first and after the last', () => {
  const middle = rejects(withRegions('{ id: a, endKey: g }', '{ id: b, startKey: h }'));
  assert.deepEqual(middle.problems, [
    { path: 'regions[1]', message: "gap in the key space: no region holds the keys ['g', 'h'), between region 'a' ['', 'g') and region 'b' ['h', +∞)" },
  ]);
  const ends = rejects(withRegions('{ id: a, startKey: b, endKey: y }'));
  assert.deepEqual(
    ends.problems.map((p) => p.path),
    ['regions[0]', 'regions'],
  );
  assert.match(ends.message, /no region holds the keys \['', 'b'\), before region 'a' \['b', 'y'\); the first region must start at ''/);
  assert.match(ends.message, /no region holds the keys \['y', \+∞\), after region 'a' \['b', 'y'\); the last region must end at ''/);
});

test('region keys compare as UTF-8 bytes', () => {
  // 'Z' (0x5A) < 'a' (0x61) < 'é' (0xC3 0xA9): a valid layout in byte order.
  const c = parseStoreConfig(withRegions('{ id: a, endKey: Z }', '{ id: b, startKey: Z, endKey: é }', '{ id: c, startKey: é }'));
  assert.equal(c.regions.length, 3);
  const err = rejects(withRegions('{ id: a, startKey: é, endKey: z }'));
  assert.match(err.message, /startKey 'é' must sort before endKey 'z'/);
});

test('regions out of order, duplicate region ids', () => {
  const order = rejects(withRegions('{ id: a, startKey: g }', '{ id: b, endKey: g }'));
  assert.deepEqual(order.problems, [{ path: 'regions[1]', message: "regions must be listed in key order: region 'b' ['', 'g') comes after region 'a' ['g', +∞)" }]);
  const dup = rejects(withRegions('{ id: a, endKey: g }', '{ id: a, startKey: g }'));
  assert.deepEqual(dup.problems, [{ path: 'regions[1].id', message: "duplicate region id 'a' (also regions[0])" }]);
  // r<number> is how the placement driver names the regions it creates (refused only with PD).
  const pdLike = rejects(`${withRegions('{ id: r7, endKey: g }', '{ id: r7x, startKey: g }')}pd: { enabled: true }\n`);
  assert.deepEqual(pdLike.problems.map((p) => p.path), ['regions[0].id']);
  assert.match(pdLike.problems[0]!.message, /'r7' has the form the placement driver gives new regions/);
  assert.equal(parseStoreConfig(withRegions('{ id: r7, endKey: g }', '{ id: r7x, startKey: g }')).regions[0]!.id, 'r7');
});

test('electionTimeoutMs too small for the tick and the heartbeat', () => {
  const err = rejects(`${MINIMAL}raft: { electionTimeoutMs: 200 }\n`);
  assert.equal(err.message, 'node.yaml: raft.electionTimeoutMs: must be at least 3 x tickMs (300), got 200');
  const hb = rejects(`${MINIMAL}raft: { tickMs: 10, heartbeatIntervalMs: 500, electionTimeoutMs: 500 }\n`);
  assert.equal(hb.message, 'node.yaml: raft.electionTimeoutMs: must be greater than heartbeatIntervalMs (500), got 500');
});

test('bad sizes and limits', () => {
  const err = rejects(`${MINIMAL}raft: { maxEntryBytes: 4MB }\nkv: { maxKeyBytes: 4KiB, maxValueBytes: true }\n`);
  assert.deepEqual(err.problems, [
    { path: 'raft.maxEntryBytes', message: "bad size '4MB': write a number of bytes or a number with a unit B, KiB, MiB or GiB, like '512KiB' or '64 MiB'" },
    { path: 'kv.maxKeyBytes', message: 'must be at most 1978, got 4096' },
    { path: 'kv.maxValueBytes', message: "must be a size in bytes, as a number or a string like '512KiB', got true" },
  ]);
  const tooBig = rejects(`${MINIMAL}raft: { maxEntryBytes: 1MiB }\n`);
  assert.match(tooBig.message, /^node\.yaml: kv\.maxValueBytes: must be less than raft\.maxEntryBytes \(1048576\)/);
});

test('wrong types and values name the field and what was found', () => {
  const err = rejects(`${MINIMAL}engine: rocks\nraft: { preVote: "yes", tickMs: 1.5 }\nserver: { retryCacheExpiryMs: -1 }\nlog: { level: verbose }\n`);
  assert.deepEqual(err.problems, [
    { path: 'engine', message: "must be one of 'lmdb', 'memory', got 'rocks'" },
    { path: 'raft.tickMs', message: 'must be a whole number, got 1.5' },
    { path: 'raft.preVote', message: "must be true or false, got 'yes'" },
    { path: 'server.retryCacheExpiryMs', message: 'must be greater than 0, got -1' },
    { path: 'log.level', message: "must be one of 'debug', 'info', 'warn', 'error', got 'verbose'" },
  ]);
  assert.equal(rejects('- just a list\n').message, 'node.yaml: must be a mapping (key: value lines), got a list');
});

test('YAML syntax errors give the line and column', () => {
  const err = rejects(`${MINIMAL}raft:\n  tickMs: 100\n tickMs: 200\n`);
  assert.equal(err.problems.length, 1);
  assert.match(err.message, /^node\.yaml: line 9, column 1: YAML syntax error: /);
  const dup = rejects(`${MINIMAL}nodeId: n2\n`);
  assert.match(dup.message, /^node\.yaml: line 7, column 1: YAML syntax error: Map keys must be unique/);
  assert.match(rejects(`${MINIMAL}cluster: *nowhere\n`).message, /^node\.yaml: YAML error: .*nowhere/);
});

const scratch = await mkdtemp(join(tmpdir(), 'raftkv-config-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('a file that cannot be read', async () => {
  const path = join(scratch, 'missing.yaml');
  await assert.rejects(loadStoreConfig(path), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'INVALID_CONFIG');
    assert.ok(err.message.startsWith(`${path}: cannot read the configuration file: ENOENT`), err.message);
    return true;
  });
  await assert.rejects(loadStoreConfig(scratch), (err: unknown) => err instanceof ConfigError && /EISDIR/.test(err.message));
});

test('errors in a loaded file name the file', async () => {
  const path = join(scratch, 'node.yaml');
  await writeFile(path, `${MINIMAL}raft: { electionTimeoutMs: 200 }\n`);
  await assert.rejects(loadStoreConfig(path), { name: 'ConfigError', message: `${path}: raft.electionTimeoutMs: must be at least 3 x tickMs (300), got 200` });
});
