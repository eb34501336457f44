// The verifier: a real cluster of node processes on 127.0.0.1, concurrent clients recording
// every call, and a seeded nemesis injecting faults. At the end: heal, converge, read everything
// back, check the history for linearizability (per key) and the replicas for identical state.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RaftClient, RaftClientError } from '../client/raft-client.js';
import { seededRand } from '../raft/core/random.js';
import { checkLinearizable } from './checker.js';
import { HistoryRecorder } from './history.js';
import { type KvInput, type KvOutput, kvModel } from './models.js';
import { ProcCluster } from './proc-cluster.js';
import { writeHtmlTimeline } from './report.js';

export type NemesisKind = 'kill' | 'pause' | 'partition' | 'transfer' | 'slow-disk' | 'membership';
export const ALL_NEMESES: readonly NemesisKind[] = ['kill', 'pause', 'partition', 'transfer', 'slow-disk', 'membership'];

export interface VerifyOptions {
  readonly seed: number;
  /** Seconds of workload under faults. */
  readonly timeSec: number;
  readonly nodes?: number;
  readonly nemesis: readonly NemesisKind[];
  /** Keys of the register map under test. Default 4. */
  readonly keys?: number;
  /** Concurrent clients. Default 6. */
  readonly clients?: number;
  /** Run the nodes with the deliberately unsafe leader-local reads. */
  readonly unsafeLeaderLocalReads?: boolean;
  /** Where to write the HTML timeline of a violation. Default .verify-failures/. */
  readonly outDir?: string;
  readonly log?: (line: string) => void;
}

export interface VerifyResult {
  readonly seed: number;
  readonly ops: number;
  readonly ok: number;
  readonly failed: number;
  readonly unknown: number;
  readonly faults: readonly string[];
  readonly linearizable: 'ok' | 'illegal' | 'unknown';
  readonly replicasIdentical: boolean;
  readonly report?: string;
  readonly htmlFile?: string;
  /** KV workload with the placement driver: what PD left at the end. */
  readonly placement?: { readonly regions: readonly string[]; readonly votersOnS4: number; readonly leadersOnS4: number };
}

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const dec = (b: Uint8Array): unknown => (b.byteLength ? JSON.parse(new TextDecoder().decode(b)) : null);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Errors after which a write certainly did not take effect. */
const DEFINITE = new Set(['RESOURCE_UNAVAILABLE', 'STATE_MACHINE_ERROR', 'ENTRY_TOO_LARGE', 'TERM_MISMATCH', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED']);

export async function runVerify(o: VerifyOptions): Promise<VerifyResult> {
  const log = o.log ?? (() => {});
  const rand = seededRand(o.seed);
  const voters = Array.from({ length: o.nodes ?? 3 }, (_, i) => `v${i + 1}`);
  // Membership changes need a spare node: it starts empty and is added and removed as the run goes.
  const withSpare = o.nemesis.includes('membership');
  const ids = withSpare ? [...voters, `v${voters.length + 1}`] : voters;
  const nkeys = o.keys ?? 4;
  const extra = ['--tick-ms', '50', '--election-timeout-ms', '500', '--initial-voters', voters.join(','), ...(o.unsafeLeaderLocalReads ? ['--unsafe-leader-local-reads'] : [])];
  const cluster = await ProcCluster.create(ids, extra, { faults: true });
  const servers = [...cluster.nodes.values()].map((n) => ({ id: n.id, address: `127.0.0.1:${n.port}` }));
  const admin = new RaftClient({ servers, timeoutMs: 3000 });
  const recorder = new HistoryRecorder<KvInput, KvOutput>({ clock: () => performance.now() });
  const faults: string[] = [];
  let failedOps = 0;
  const clients: RaftClient[] = [];
  let stop = false;
  /** Voters now; the others are spares (empty, or removed and still running). */
  const members = new Set(voters);
  try {
    await Promise.all(voters.map((id) => cluster.start(id)));
    if (withSpare) await cluster.start(ids.at(-1)!, ['--join']);
    await cluster.leader(admin);
    log(`cluster up: ${ids.join(', ')} (seed ${o.seed})`);

    // ------------------------------------------------------------------ workload
    const worker = async (w: number): Promise<void> => {
      const c = new RaftClient({ servers, timeoutMs: 2500, attemptTimeoutMs: 800 });
      clients.push(c);
      const rc = recorder.client(`c${w}`);
      const wr = seededRand(o.seed * 1000 + w);
      let n = 0;
      while (!stop) {
        const key = `k${wr.int(nkeys)}`;
        if (wr.int(10) < 5) {
          const value = `c${w}-${n++}`;
          const h = rc.invoke({ type: 'put', key, value });
          try {
            await c.apply(enc({ op: 'set', key, value }));
            h.ok({});
          } catch (e) {
            if (e instanceof RaftClientError && DEFINITE.has(e.code)) {
              h.fail();
              failedOps++;
            } else h.unknown();
          }
        } else {
          // Reads go to a chosen member (leader or follower), linearizable.
          const targets = [...members];
          const server = targets[wr.int(targets.length)]!;
          const h = rc.invoke({ type: 'get', key });
          try {
            const r = await c.query(enc({ op: 'get', key }), { server });
            h.ok({ value: dec(r.result) as string | null });
          } catch {
            h.fail(); // a read that failed changed nothing
            failedOps++;
          }
        }
      }
    };
    const workers = Array.from({ length: o.clients ?? 6 }, (_, w) => worker(w));

    // ------------------------------------------------------------------ nemesis
    const deadline = Date.now() + o.timeSec * 1000;
    const down = new Set<string>();
    const leaderNow = async (): Promise<string | undefined> => {
      for (const id of ids) {
        if (down.has(id)) continue;
        const s = await admin.status(id).catch(() => undefined);
        if (s?.['role'] === 'leader') return id;
      }
      return undefined;
    };
    while (Date.now() < deadline && o.nemesis.length > 0) {
      await sleep(600 + rand.int(800));
      const kind = o.nemesis[rand.int(o.nemesis.length)]!;
      const leader = await leaderNow();
      // Faults aim at the leader more often than not: that is where bugs hide.
      const victim = leader && rand.int(10) < 6 ? leader : ids[rand.int(ids.length)]!;
      const hold = 500 + rand.int(1200);
      if (kind === 'kill') {
        faults.push(`kill -9 ${victim} for ${hold} ms`);
        log(faults.at(-1)!);
        down.add(victim);
        await cluster.kill(victim);
        await sleep(hold);
        await cluster.start(victim);
        down.delete(victim);
      } else if (kind === 'pause') {
        faults.push(`pause ${victim} for ${hold} ms`);
        log(faults.at(-1)!);
        cluster.pause(victim);
        await sleep(hold);
        cluster.resume(victim);
      } else if (kind === 'partition') {
        const others = ids.filter((x) => x !== victim);
        const style = rand.int(3);
        let links: string[];
        if (style === 0) {
          links = others.flatMap((x) => [`${victim}->${x}`, `${x}->${victim}`]);
          faults.push(`isolate ${victim} for ${hold} ms`);
        } else if (style === 1) {
          links = others.map((x) => `${victim}->${x}`);
          faults.push(`one-way: ${victim} cannot send for ${hold} ms`);
        } else {
          // Bridge (5 nodes) or a clean minority/majority split.
          const a = others[0]!;
          links = ids.filter((x) => x !== victim && x !== a).flatMap((x) => [`${a}->${x}`, `${x}->${a}`]);
          faults.push(`partition around ${a} (bridged by ${victim}) for ${hold} ms`);
        }
        log(faults.at(-1)!);
        cluster.setBlocked(links);
        await sleep(hold);
        cluster.setBlocked([]);
      } else if (kind === 'slow-disk') {
        // A slow disk (tens of ms per fsync) or a stall longer than an election timeout.
        const ms = rand.int(2) === 0 ? 20 + rand.int(60) : 600 + rand.int(600);
        faults.push(`fsync on ${victim} takes +${ms} ms for ${hold} ms`);
        log(faults.at(-1)!);
        cluster.setSlowSync(victim, ms);
        await sleep(hold);
        cluster.setSlowSync(victim, 0);
      } else if (kind === 'membership') {
        const spare = ids.find((x) => !members.has(x) && !down.has(x));
        if (spare && members.size <= voters.length) {
          faults.push(`add ${spare}: learner, then voter`);
          log(faults.at(-1)!);
          try {
            await admin.admin({ action: 'addLearner', node: spare });
            for (let i = 0; i < 30; i++) {
              const ok = await admin.admin({ action: 'promote', node: spare }).then(() => true, () => false);
              if (ok) {
                members.add(spare);
                break;
              }
              await sleep(100);
            }
          } catch (e) {
            faults.push(`  (membership change refused: ${(e as Error).message})`);
          }
        } else {
          const out = [...members][rand.int(members.size)]!;
          faults.push(`remove ${out}`);
          log(faults.at(-1)!);
          const ok = await admin.admin({ action: 'removeNode', node: out }).then(() => true, () => false);
          if (ok) members.delete(out);
        }
      } else if (kind === 'transfer' && leader) {
        const candidates = [...members].filter((x) => x !== leader && !down.has(x));
        const to = candidates[rand.int(candidates.length)] ?? voters.find((x) => x !== leader)!;
        faults.push(`transfer leadership ${leader} -> ${to}`);
        log(faults.at(-1)!);
        await admin.admin({ action: 'transferLeader', node: to }).catch(() => undefined);
      }
    }
    if (o.nemesis.length === 0) await sleep(Math.max(0, deadline - Date.now()));

    // ------------------------------------------------------------------ heal and check
    cluster.setBlocked([]);
    for (const id of ids) cluster.setSlowSync(id, 0);
    for (const id of ids) cluster.resume(id);
    stop = true;
    await Promise.all(workers);
    await cluster.leader(admin, 20_000);
    const replicasIdentical = await converged(cluster, admin, [...members]);
    // Final reads of every key, recorded like the rest.
    const final = recorder.client('final');
    for (let k = 0; k < nkeys; k++) {
      const key = `k${k}`;
      const h = final.invoke({ type: 'get', key });
      try {
        const r = await admin.query(enc({ op: 'get', key }));
        h.ok({ value: dec(r.result) as string | null });
      } catch {
        h.fail();
      }
    }
    const history = recorder.history();
    const ops = history.length;
    const check = checkLinearizable(history, kvModel(), { timeoutMs: 30_000 });
    const counts = { ok: 0, unknown: 0 };
    for (const op of history) {
      if (op.returnTime === Number.POSITIVE_INFINITY) counts.unknown++;
      else counts.ok++;
    }
    let htmlFile: string | undefined;
    if (check.result === 'illegal' && check.failure) {
      const dir = o.outDir ?? '.verify-failures';
      mkdirSync(dir, { recursive: true });
      htmlFile = join(dir, `seed-${o.seed}.html`);
      writeHtmlTimeline(htmlFile, check.failure);
    }
    return {
      seed: o.seed,
      ops,
      ok: counts.ok,
      failed: failedOps,
      unknown: counts.unknown,
      faults,
      linearizable: check.result,
      replicasIdentical,
      ...(check.failure ? { report: check.failure.text } : {}),
      ...(htmlFile ? { htmlFile } : {}),
    };
  } finally {
    stop = true;
    for (const c of clients) await c.close();
    await admin.close();
    await cluster.stop();
  }
}

/** Waits until every node reports the same applied state digest. */
async function converged(cluster: ProcCluster, c: RaftClient, ids: readonly string[]): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const stats = await Promise.all(
      ids.map((id) =>
        c
          .query(enc({ op: 'stats' }), { consistency: 'local', server: id })
          .then((r) => dec(r.result) as { digest: number; entries: number })
          .catch(() => undefined),
      ),
    );
    if (stats.every((s) => s && s.digest === stats[0]!.digest && s.entries === stats[0]!.entries)) return true;
    await sleep(200);
  }
  void cluster;
  return false;
}
