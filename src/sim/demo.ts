// `npm start` for now: a simulated 3-node cluster, narrated as it runs, at a pace a person can
// follow. The cluster runs on the simulator's virtual clock (same nodes, network, disks and
// checker as the seeded runs); only the printing is slowed down with real timers. It shows an
// election, replication of a few writes, the leader crashing, a new election, and the old leader
// coming back and catching up. It ends by itself in well under 20 seconds.

import { Cluster } from './cluster.js';
import { simOptions } from './options.js';
import type { TraceEvent } from './trace.js';

const LINE_MS = 230;
const PHASE_MS = 700;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const cluster = new Cluster(
  simOptions({
    seed: 20240601,
    nodes: 3,
    faults: 'none',
    settleMs: 5000,
    profile: {
      netMinMs: 1,
      netMaxMs: 4,
      diskMinMs: 0.3,
      diskMaxMs: 1.5,
      snapshotEvery: Infinity,
      heartbeatTicks: 3,
      preVote: true,
      checkQuorum: true,
      maxSizePerMsgBytes: 1 << 20,
      maxInflightMsgs: 256,
      passApplied: true,
    },
  }),
);

const values = new Map<number, string>();
let pending: string[] = [];
let narrateAppends = true;

function say(text: string): void {
  pending.push(`[${cluster.now.toFixed(1).padStart(7)} ms]  ${text}`);
}

function stateOf(id: string): string {
  const kv = cluster.node(id).sm.kv;
  const parts = [...kv.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${values.get(v.id) ?? v.id}`);
  return `{${parts.join(', ')}}`;
}

function narrate(e: TraceEvent, text: string): void {
  let m: RegExpExecArray | null;
  switch (e.kind) {
    case 'role':
      if ((m = /^(\S+) -> (\S+) in term (\d+)/.exec(text))) {
        const [, from, to, term] = m;
        if (to === 'pre-candidate') say(`${e.node}: heard no leader for an election timeout; asks for pre-votes (would you vote for me in term ${Number(term) + 1}?)`);
        else if (to === 'candidate') say(`${e.node}: starts an election for term ${term} and votes for itself`);
        else if (to === 'leader') say(`★ ${e.node} wins the election: leader of term ${term}`);
        else if (from === 'leader') say(`${e.node}: steps down (term ${term})`);
      }
      return;
    case 'deliver':
      if ((m = /^VoteResp (\S+)->(\S+) t(\d+)$/.exec(text))) say(`${m[1]} votes for ${m[2]} in term ${m[3]}`);
      else if (narrateAppends && (m = /^App (\S+)->(\S+) t(\d+) i(\d+) lt\d+ ents\[(\d+)@t\d+(?:\.\.(\d+)@t\d+)?\]/.exec(text))) {
        const range = m[6] ? `entries ${m[5]}..${m[6]}` : `entry ${m[5]}`;
        say(`${m[1]} → ${m[2]}: AppendEntries with ${range}`);
      } else if ((m = /^AppResp (\S+)->(\S+) t\d+ i(\d+) REJECT/.exec(text))) {
        say(`${m[1]} → ${m[2]}: rejects an append after index ${m[3]} (its log does not reach or match there yet)`);
      }
      return;
    case 'propose':
      if ((m = /^write (\d+) \(set (\S+)\) -> (\d+)@t(\d+)/.exec(text))) {
        say(`client → ${e.node}: set ${m[2]} = ${values.get(Number(m[1])) ?? m[1]}   (appended at index ${m[3]}, term ${m[4]})`);
      }
      return;
    case 'ack':
      if ((m = /^write (\d+) committed at (\d+)@t(\d+)/.exec(text))) {
        say(`✓ index ${m[2]} is on a majority: committed; ${e.node} answers the client`);
      }
      return;
    case 'apply':
      if ((m = /^applied \[(\d+)@t\d+(?:\.\.(\d+)@t\d+)?\]/.exec(text))) {
        const range = m[2] ? `${m[1]}..${m[2]}` : m[1];
        say(`  ${e.node} applies index ${range} → state ${stateOf(e.node)}`);
      }
      return;
    case 'crash':
      say(`✗ ${e.node} CRASHES: everything in memory is gone (its disk survives)`);
      return;
    case 'restart':
      if ((m = /term (\d+) vote '(\S*)' commit (\d+), log \[(\d+)\.\.(\d+)\]/.exec(text))) {
        say(`↻ ${e.node} restarts from its disk: term ${m[1]}, log up to index ${m[5]}; rebuilds its state by re-applying the committed log`);
      }
      return;
    default:
      return;
  }
}

async function flush(title?: string): Promise<void> {
  if (title) {
    console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}`);
    await sleep(PHASE_MS / 2);
  }
  for (const line of pending) {
    console.log(line);
    await sleep(LINE_MS);
  }
  pending = [];
  await sleep(PHASE_MS / 2);
}

function runUntil(cond: () => boolean, maxMs: number): void {
  cluster.runUntil(cluster.now + maxMs, cond);
}

function propose(nodeId: string, id: number, key: string, value: string): void {
  values.set(id, value);
  cluster.proposeWrite(nodeId, id, key, () => {});
}

function allApplied(ids: readonly string[], index: number): boolean {
  return ids.every((id) => cluster.node(id).sm.applied >= index);
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log('raftkv — a simulated 3-node Raft cluster (virtual clock, simulated network and disks).');
  console.log('Every event below really happens in the simulator; printing is slowed down so you can follow.');
  cluster.trace.listen(narrate);
  const ids = ['n1', 'n2', 'n3'];

  // 1. Election.
  say('n1, n2 and n3 start as followers of an empty cluster: nobody leads yet');
  cluster.startAll();
  runUntil(() => cluster.leader() !== undefined, 3000);
  const first = cluster.leader();
  if (!first) throw new Error('no leader elected');
  runUntil(() => allApplied(ids, 1), 500);
  await flush('1. Leader election');

  // 2. Replication.
  propose(first.id, 1, 'x', '1');
  runUntil(() => false, 2);
  propose(first.id, 2, 'y', '2');
  runUntil(() => false, 2);
  propose(first.id, 3, 'z', '3');
  const target = first.raw!.status().lastIndex;
  runUntil(() => allApplied(ids, target), 1000);
  await flush(`2. Three writes through the leader ${first.id}`);

  // 3. The leader crashes; the others elect a new one.
  cluster.crash(first.id);
  const others = ids.filter((id) => id !== first.id);
  runUntil(() => {
    const l = cluster.leader();
    return l !== undefined && l.id !== first.id;
  }, 3000);
  const second = cluster.leader();
  if (!second || second.id === first.id) throw new Error('no new leader');
  runUntil(() => allApplied(others, second.raw!.status().commit), 500);
  await flush(`3. The leader ${first.id} crashes`);

  // 4. The cluster keeps working with two of three nodes.
  propose(second.id, 4, 'x', '10');
  runUntil(() => false, 2);
  propose(second.id, 5, 'w', '5');
  const target2 = second.raw!.status().lastIndex;
  runUntil(() => allApplied(others, target2), 1000);
  await flush(`4. ${second.id} leads; two of three nodes are a majority`);

  // 5. The old leader comes back and catches up.
  cluster.restart(first.id);
  runUntil(() => allApplied(ids, second.raw!.status().commit) && cluster.node(first.id).leader === second.id, 3000);
  runUntil(() => false, 30);
  await flush(`5. ${first.id} recovers and catches up`);
  narrateAppends = false;

  // 6. Summary: the checker watched the whole run.
  cluster.checker.finalWrites(cluster.memberNodes());
  const l = cluster.leader()!;
  const st = l.raw!.status();
  console.log(`\n── Summary ${'─'.repeat(61)}`);
  console.log(`virtual time ${cluster.now.toFixed(0)} ms, ${cluster.net.stats.sent} messages, ${cluster.checker.counts.leaders} leaders elected`);
  for (const id of ids) {
    const n = cluster.node(id);
    const s = n.raw!.status();
    console.log(`  ${id}: ${s.role.padEnd(9)} term ${s.term}  commit ${s.commit}  applied ${n.sm.applied}  state ${stateOf(id)}`);
  }
  const same = ids.every((id) => cluster.node(id).sm.chain === l.sm.chain);
  console.log(same ? `all three replicas hold the same state at index ${st.commit}` : 'REPLICAS DIFFER (this is a bug)');
  console.log(
    `checked throughout: one leader per term, log matching, leader completeness, state-machine safety, ` +
      `persistence contract; ${cluster.checker.counts.acked} acknowledged writes present on every replica.`,
  );
  console.log(`(demo took ${((Date.now() - started) / 1000).toFixed(1)} s; for the fault-injecting simulator run \`npm run sim -- --seeds 200\`)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
