// The verifier's KV-store workload: 3 store processes with several regions on 127.0.0.1,
// concurrent KV clients recording every call (single-key operations: get, put, delete,
// putIfAbsent, compareAndPut, getAndPut, containsKey; linearizable reads on leaders and
// followers), and a seeded nemesis: kill -9, pause, partitions, slow fsync, region leader
// transfers and region splits. At the end: heal, wait until every replica of every region has
// applied the same index, compare their engine digests, read every key back, and check the
// history for linearizability per key.
//
// With `pd`, the placement driver runs in s1..s3 and schedules during the faults: it splits
// regions past 2 keys, and a 4th store s4 joins, so replicas and leaders move to it (learner,
// promote, hand over, remove) while stores, PD's leader among them, are killed, paused and cut
// off. The replicas compared at the end are then those of each region, wherever they live.
//
// Multi-key operations are left out on purpose: across regions they are not atomic (as in
// RheaKV), so a model that treats them as one step would report false violations.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RaftClient } from '../client/raft-client.js';
import { type KvClient, KvClientError, createClient } from '../kv/client/index.js';
import { KvTag, type StatsReply } from '../kv/protocol.js';
import { seededRand } from '../raft/core/random.js';
import { decodeEnvelope, encodeEnvelope } from '../raft/runtime/rpc-router.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import { checkLinearizable } from './checker.js';
import { HistoryRecorder } from './history.js';
import { type KvInput, type KvOutput, kvModel } from './models.js';
import { KV_STORE_MAIN, ProcCluster } from './proc-cluster.js';
import { pdCall } from '../pd/pd-client.js';
import { type ClusterReply, PdTag } from '../pd/pd-protocol.js';
import { writeHtmlTimeline } from './report.js';
import type { VerifyResult } from './runner.js';

export type KvNemesisKind = 'kill' | 'pause' | 'partition' | 'transfer' | 'slow-disk' | 'split';
export const ALL_KV_NEMESES: readonly KvNemesisKind[] = ['kill', 'pause', 'partition', 'transfer', 'slow-disk', 'split'];

export interface KvVerifyOptions {
  readonly seed: number;
  readonly timeSec: number;
  readonly nemesis: readonly KvNemesisKind[];
  /** Keys under test (spread over the regions). Default 8. */
  readonly keys?: number;
  /** Concurrent clients. Default 6. */
  readonly clients?: number;
  /**
   * Stores answer linearizable reads from a leader's own state without ReadIndex, and run without
   * check-quorum so a cut-off leader keeps believing it leads: the bug the verifier must catch.
   */
  readonly unsafeLeaderLocalReads?: boolean;
  /** The placement driver schedules during the run (auto split, a 4th store joins). Default false. */
  readonly pd?: boolean;
  readonly outDir?: string;
  readonly log?: (line: string) => void;
}

/** Failures after which a write certainly did not take effect. */
const DEFINITE = new Set(['INVALID_PARAMETER', 'DEADLINE_EXCEEDED', 'CROSS_REGION', 'TOO_SMALL_TO_SPLIT', 'SERVER_BUSY', 'NO_REGION_FOUND']);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const str = (b: Buffer | null): string | null => (b === null ? null : b.toString());

export async function runVerifyKv(o: KvVerifyOptions): Promise<VerifyResult> {
  const log = o.log ?? (() => {});
  const rand = seededRand(o.seed);
  const ids = o.pd ? ['s1', 's2', 's3', 's4'] : ['s1', 's2', 's3'];
  const nkeys = o.keys ?? 8;
  // Keys k0..k{n-1}; the static regions split the key space between them.
  const keyOf = (i: number): string => `k${String(i).padStart(3, '0')}`;
  const splitKeys = [keyOf(Math.floor(nkeys / 3)), keyOf(Math.floor((2 * nkeys) / 3))];
  const pdFlags = ['--pd', '--pd-voters', 's1,s2,s3', '--pd-heartbeat-ms', '200', '--schedule-interval-ms', '300', '--pd-warmup-ms', '1000', '--split-max-keys', '2', '--operator-timeout-ms', '10000'];
  const extra = ['--engine', 'lmdb', '--split-keys', splitKeys.join(','), '--tick-ms', '50', '--election-timeout-ms', '500', '--split-min-keys', '2', ...(o.pd ? pdFlags : []), ...(o.unsafeLeaderLocalReads ? ['--unsafe-leader-local-reads', '--check-quorum', 'false'] : [])];
  // The static regions' voters are the stores started first; s4 is added afterwards and joins
  // through PD (no static regions): PD moves replicas and leaders to it.
  const cluster = await ProcCluster.create(['s1', 's2', 's3'], extra, { faults: true, main: KV_STORE_MAIN });
  const joinArgs = (id: string): string[] => (o.pd && id === 's4' ? ['--join', ['s1', 's2', 's3'].map((x) => `${x}=127.0.0.1:${cluster.nodes.get(x)!.port}`).join(',')] : []);
  const start = (id: string): Promise<void> => cluster.start(id, joinArgs(id));
  const endpoints = [...cluster.nodes.values()].map((n) => `127.0.0.1:${n.port}`);
  if (o.pd) await cluster.addNode('s4');
  const servers = [...cluster.nodes.values()].map((n) => ({ id: n.id, address: `127.0.0.1:${n.port}` }));
  const recorder = new HistoryRecorder<KvInput, KvOutput>({ clock: () => performance.now() });
  const faults: string[] = [];
  const clients: KvClient[] = [];
  let failedOps = 0;
  let stop = false;
  const admin = createClient({ endpoints, timeoutMs: 5000 });
  try {
    await Promise.all(['s1', 's2', 's3'].map(start));
    if (o.pd) await start('s4');
    await admin.refreshRoutes();
    log(`stores up: ${ids.join(', ')}; regions split at ${splitKeys.join(', ')}${o.pd ? '; the placement driver schedules (s4 joins, splits past 2 keys)' : ''} (seed ${o.seed})`);

    // ------------------------------------------------------------------ workload
    const worker = async (w: number): Promise<void> => {
      const c = createClient({ endpoints, timeoutMs: 2500, attemptTimeoutMs: 800 });
      clients.push(c);
      const rc = recorder.client(`c${w}`);
      const wr = seededRand(o.seed * 1000 + w);
      let n = 0;
      while (!stop) {
        const key = keyOf(wr.int(nkeys));
        const value = `c${w}-${n++}`;
        const kind = wr.int(20);
        let input: KvInput;
        let call: () => Promise<KvOutput>;
        let read = false;
        if (kind < 7) {
          read = true;
          const follower = wr.int(3) === 0;
          input = { type: 'get', key };
          call = async () => ({ value: str(await c.get(key, { follower })) });
        } else if (kind < 8) {
          read = true;
          input = { type: 'containsKey', key };
          call = async () => ({ ok: await c.containsKey(key) });
        } else if (kind < 13) {
          input = { type: 'put', key, value };
          call = async () => (await c.put(key, value), {});
        } else if (kind < 15) {
          const expected = wr.int(3) === 0 ? null : `c${wr.int(o.clients ?? 6)}-${wr.int(Math.max(1, n))}`;
          input = { type: 'compareAndPut', key, expected, value };
          call = async () => ({ ok: await c.compareAndPut(key, expected, value) });
        } else if (kind < 17) {
          input = { type: 'putIfAbsent', key, value };
          call = async () => {
            const prev = await c.putIfAbsent(key, value);
            return prev === null ? { ok: true } : { ok: false, value: prev.toString() };
          };
        } else if (kind < 19) {
          input = { type: 'getAndPut', key, value };
          call = async () => ({ value: str(await c.getAndPut(key, value)) });
        } else {
          input = { type: 'delete', key };
          call = async () => (await c.delete(key), {});
        }
        const h = rc.invoke(input);
        try {
          h.ok(await call());
        } catch (e) {
          if (read || (e instanceof KvClientError && DEFINITE.has(e.code))) {
            h.fail();
            failedOps++;
          } else h.unknown();
        }
      }
    };
    const workers = Array.from({ length: o.clients ?? 6 }, (_, w) => worker(w));

    // ------------------------------------------------------------------ nemesis
    const deadline = Date.now() + o.timeSec * 1000;
    while (Date.now() < deadline && o.nemesis.length > 0) {
      await sleep(600 + rand.int(800));
      const kind = o.nemesis[rand.int(o.nemesis.length)]!;
      const regions = await admin.regions().catch(() => []);
      const region = regions.length > 0 ? regions[rand.int(regions.length)]! : undefined;
      const leader = region?.leader || undefined;
      const victim = leader && rand.int(10) < 6 ? leader : ids[rand.int(ids.length)]!;
      const hold = 500 + rand.int(1200);
      if (kind === 'kill') {
        faults.push(`kill -9 ${victim} for ${hold} ms`);
        log(faults.at(-1)!);
        await cluster.kill(victim);
        await sleep(hold);
        await start(victim);
      } else if (kind === 'pause') {
        faults.push(`pause ${victim} for ${hold} ms`);
        log(faults.at(-1)!);
        cluster.pause(victim);
        await sleep(hold);
        cluster.resume(victim);
      } else if (kind === 'partition') {
        const others = ids.filter((x) => x !== victim);
        // Partitions outlast an election timeout, so a new leader takes over behind the cut.
        const cut = hold + 800;
        const oneWay = rand.int(2) === 0;
        const links = oneWay ? others.map((x) => `${victim}->${x}`) : others.flatMap((x) => [`${victim}->${x}`, `${x}->${victim}`]);
        faults.push(`${oneWay ? 'one-way: ' : 'isolate '}${victim}${oneWay ? ' cannot send' : ''} for ${cut} ms`);
        log(faults.at(-1)!);
        cluster.setBlocked(links);
        await sleep(cut);
        cluster.setBlocked([]);
      } else if (kind === 'slow-disk') {
        const ms = rand.int(2) === 0 ? 20 + rand.int(60) : 600 + rand.int(600);
        faults.push(`fsync on ${victim} takes +${ms} ms for ${hold} ms`);
        log(faults.at(-1)!);
        cluster.setSlowSync(victim, ms);
        await sleep(hold);
        cluster.setSlowSync(victim, 0);
      } else if (kind === 'transfer' && region && leader) {
        const voters = region.voters.map((v) => v.id).filter((x) => x !== leader);
        const to = voters.length > 0 ? voters[rand.int(voters.length)]! : ids.filter((x) => x !== leader)[rand.int(2)]!;
        faults.push(`transfer leadership of region ${region.id}: ${leader} -> ${to}`);
        log(faults.at(-1)!);
        const rc = new RaftClient({ servers, groupId: region.id, timeoutMs: 2000 });
        await rc.admin({ action: 'transferLeader', node: to }).catch(() => undefined);
        await rc.close();
      } else if (kind === 'split' && region) {
        try {
          const s = await admin.rangeSplit(region.id);
          faults.push(`split region ${s.left} at ${JSON.stringify(s.splitKey.toString())}: new region ${s.right}`);
        } catch (e) {
          faults.push(`split region ${region.id} refused: ${(e as KvClientError).code ?? (e as Error).message}`);
        }
        log(faults.at(-1)!);
      }
    }
    if (o.nemesis.length === 0) await sleep(Math.max(0, deadline - Date.now()));

    // ------------------------------------------------------------------ heal and check
    cluster.setBlocked([]);
    for (const id of ids) cluster.setSlowSync(id, 0);
    for (const id of ids) cluster.resume(id);
    stop = true;
    await Promise.all(workers);
    const replicasIdentical = await converged(servers, o.pd ? 90_000 : 30_000, log);
    let placement: VerifyResult['placement'];
    if (replicasIdentical && o.pd) {
      const c = await pdCall<ClusterReply>({ addresses: endpoints.slice(0, 3), timeoutMs: 5000 }, PdTag.Cluster, {}).catch(() => undefined);
      if (c) {
        const on = (s: string): number => c.regions.filter((r) => r.region.voters.some((v) => v.id === s)).length;
        placement = { regions: c.regions.map((r) => r.region.id), votersOnS4: on('s4'), leadersOnS4: c.regions.filter((r) => r.region.leader === 's4').length };
        log(`placement driver: ${c.regions.length} regions (ids ${c.regions.map((r) => r.region.id).join(',')}); voters per store ${ids.map((s) => `${s} ${on(s)}`).join(', ')}; leaders on s4: ${placement.leadersOnS4}`);
      }
    }
    if (!replicasIdentical && o.pd) {
      // What PD sees, for the report: regions with their members, operators in progress.
      const c = await pdCall<ClusterReply>({ addresses: endpoints.slice(0, 3), timeoutMs: 5000 }, PdTag.Cluster, {}).catch((e: Error) => e.message);
      log(`placement driver: ${typeof c === 'string' ? c : JSON.stringify({ regions: c.regions.map((r) => [r.region.id, r.region.leader, r.region.voters.map((v) => v.id).join(','), r.region.learners.map((v) => v.id).join(','), r.region.epoch]), operators: c.operators, stores: c.stores.map((s) => [s.id, s.state, s.down, s.regionCount]) })}`);
      const dir = o.outDir ?? '.verify-failures';
      mkdirSync(dir, { recursive: true });
      for (const n of cluster.nodes.values()) writeFileSync(join(dir, `kv-seed-${o.seed}-${n.id}.log`), n.stderr);
      log(`store logs: ${join(dir, `kv-seed-${o.seed}-<store>.log`)}`);
    }
    const final = recorder.client('final');
    const reader = createClient({ endpoints, timeoutMs: 20_000 });
    clients.push(reader);
    for (let k = 0; k < nkeys; k++) {
      const key = keyOf(k);
      const h = final.invoke({ type: 'get', key });
      try {
        h.ok({ value: str(await reader.get(key)) });
      } catch {
        h.fail();
      }
    }
    const history = recorder.history();
    const check = checkLinearizable(history, kvModel(), { timeoutMs: 30_000 });
    let ok = 0;
    let unknown = 0;
    for (const op of history) {
      if (op.returnTime === Number.POSITIVE_INFINITY) unknown++;
      else ok++;
    }
    let htmlFile: string | undefined;
    if (check.result === 'illegal' && check.failure) {
      const dir = o.outDir ?? '.verify-failures';
      mkdirSync(dir, { recursive: true });
      htmlFile = join(dir, `kv-seed-${o.seed}.html`);
      writeHtmlTimeline(htmlFile, check.failure);
    }
    return {
      seed: o.seed,
      ops: history.length,
      ok,
      failed: failedOps,
      unknown,
      faults,
      linearizable: check.result,
      replicasIdentical,
      ...(check.failure ? { report: check.failure.text } : {}),
      ...(htmlFile ? { htmlFile } : {}),
      ...(placement ? { placement } : {}),
    };
  } finally {
    stop = true;
    for (const c of clients) await c.close();
    await admin.close();
    await cluster.stop();
  }
}

/**
 * Waits until, per region, every replica (on whichever stores host it) has applied the same index
 * with the same engine digest, and every region has at least 3 replicas. A replica left behind by
 * a move differs until PD has it destroyed, so this also waits for moves to finish.
 */
async function converged(servers: ReadonlyArray<{ id: string; address: string }>, timeoutMs: number, log: (line: string) => void): Promise<boolean> {
  const t = new TcpTransport({ nodeId: `verify-${process.pid}`, logger: { debug() {}, info() {}, warn() {} } });
  for (const s of servers) {
    const [h, p] = s.address.split(':');
    t.setPeer(s.id, h!, Number(p));
  }
  try {
    const deadline = Date.now() + timeoutMs;
    let last = 'no store answered';
    while (Date.now() < deadline) {
      const replies = await Promise.all(
        servers.map((s) =>
          t
            .request(s.id, '', encodeEnvelope(KvTag.Stats, { digest: true }), { timeoutMs: 2000 })
            .then((raw) => decodeEnvelope<StatsReply>(raw).header)
            .catch(() => undefined),
        ),
      );
      if (replies.every((r) => r !== undefined)) {
        const byRegion = new Map<string, string[]>();
        // A replica that never received anything (opened for a move that was then abandoned) is
        // not a copy of the region: PD has it destroyed later; it is not compared.
        for (const r of replies) for (const g of r!.regions) if (g.appliedIndex > 0) byRegion.set(g.id, [...(byRegion.get(g.id) ?? []), `${g.appliedIndex}:${g.digest}`]);
        last = [...byRegion].map(([id, states]) => `${id}: ${replies.filter((r) => r!.regions.some((g) => g.id === id)).map((r) => r!.storeId).join(',')} ${states.join(' ')}`).join('; ');
        const same = byRegion.size > 0 && [...byRegion.values()].every((states) => states.length >= 3 && states.every((x) => x === states[0]));
        if (same) return true;
      }
      await sleep(250);
    }
    log(`replicas did not converge: ${last}`);
    return false;
  } finally {
    await t.close();
  }
}
