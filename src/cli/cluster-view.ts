// A snapshot of the cluster for `raftkv admin`: every store's KvTag.Regions and KvTag.Stats
// (as src/cli/dev.ts watches them) plus RaftClient.status() of every replica of every region
// (lastIndex, and on the leader each peer's match index, for the lag column).
//
// Stores are found from --endpoints and then from the regions' voters and learners, so one
// reachable endpoint is enough to see the whole cluster. A store that does not answer within
// a short per-store bound is shown as down rather than stalling the whole command.

import { randomBytes } from 'node:crypto';
import { RaftClient } from '../client/raft-client.js';
import { KvTag, type RegionInfo, type RegionsReply, type StatsReply, fromWireKey } from '../kv/protocol.js';
import { decodeEnvelope, encodeEnvelope } from '../raft/runtime/rpc-router.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import { type ConnectionOptions, endpointsOf, showBytes } from './common.js';
import { CliError, Exit } from './errors.js';

export interface StoreView {
  /** The store's node id ('' when it never answered). */
  id: string;
  address: string;
  up: boolean;
  error?: string;
  regionsLed: string[];
  regionsHosted: string[];
  /** Requests served (sum of the store's per-op counters). */
  requests: number;
}

export interface ReplicaView {
  store: string;
  role: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  /** The replica's last log index (from its Raft status; null when that failed). */
  lastIndex: number | null;
  /** Leader's lastIndex - this peer's match index, from the leader's progress (null: unknown). */
  lag: number | null;
  learner: boolean;
  /** False for a store that still runs the group but was removed from its configuration. */
  member: boolean;
}

export interface RegionView {
  id: string;
  /** Keys as text (see showBytes); '' = unbounded. */
  startKey: string;
  endKey: string;
  epoch: { version: number; confVer: number };
  leader: string;
  term: number;
  voters: string[];
  learners: string[];
  replicas: ReplicaView[];
}

export interface ClusterView {
  stores: StoreView[];
  regions: RegionView[];
}

const quiet = { debug() {}, info() {}, warn() {} };
/** How long one store may take to answer before it is shown as down. */
const PER_STORE_MS = 2000;
/** How long a store that refuses connections is retried. */
const REFUSED_RETRY_MS = 500;

interface Answer {
  address: string;
  regions?: RegionsReply;
  stats?: StatsReply;
  error?: string;
}

/** Asks every store it can find for its regions and stats. Throws (exit 3) when none answers. */
export async function gatherStores(o: ConnectionOptions): Promise<{ answers: Answer[]; byId: Map<string, Answer> }> {
  const endpoints = endpointsOf(o);
  const t = new TcpTransport({ nodeId: `cli-${randomBytes(6).toString('hex')}`, cluster: o.cluster, logger: quiet });
  const bound = Math.min(PER_STORE_MS, o.timeoutMs);
  try {
    const answers = new Map<string, Answer>();
    let todo = endpoints;
    // Round 1: the endpoints; round 2: stores they name that were not among them.
    for (let round = 0; round < 2 && todo.length > 0; round++) {
      const got = await Promise.all(todo.map((a) => ask(t, a, bound)));
      for (const g of got) answers.set(g.address, g);
      const named = new Set<string>();
      for (const g of got) for (const r of g.regions?.regions ?? []) for (const p of [...r.voters, ...r.learners]) named.add(p.address);
      todo = [...named].filter((a) => !answers.has(a));
    }
    const list = [...answers.values()];
    if (!list.some((a) => a.regions)) {
      const why = list.map((a) => `${a.address}: ${a.error ?? 'no answer'}`).join('; ');
      throw new CliError(Exit.UNAVAILABLE, `no store answered within ${bound} ms (${why}) (is the cluster running? check --endpoints or RAFTKV_ENDPOINTS)`);
    }
    const byId = new Map<string, Answer>();
    for (const a of list) if (a.regions) byId.set(a.regions.storeId, a);
    return { answers: list, byId };
  } finally {
    await t.close();
  }
}

async function ask(t: TcpTransport, address: string, boundMs: number): Promise<Answer> {
  const id = `@${address}`;
  const m = /^(.*):(\d+)$/.exec(address)!;
  t.setPeer(id, m[1]!, Number(m[2]));
  const started = Date.now();
  const deadline = started + boundMs;
  let error = '';
  // A refused dial fails at once: retry a little, so a store that is just starting is seen,
  // but not for the whole bound (a stopped store would delay every status by that much).
  while (Date.now() < deadline && !(error.startsWith('UNREACHABLE') && Date.now() - started > REFUSED_RETRY_MS)) {
    try {
      const opts = { timeoutMs: Math.max(1, deadline - Date.now()) };
      const [r, s] = await Promise.all([
        t.request(id, '', encodeEnvelope(KvTag.Regions, {}), opts).then((b) => decodeEnvelope<RegionsReply>(b)),
        t.request(id, '', encodeEnvelope(KvTag.Stats, {}), opts).then((b) => decodeEnvelope<StatsReply>(b)),
      ]);
      if (r.tag !== 0 || s.tag !== 0) return { address, error: `refused: ${JSON.stringify(r.tag !== 0 ? r.header : s.header)}` };
      return { address, regions: r.header, stats: s.header };
    } catch (e) {
      error = `${(e as { code?: string }).code ?? 'ERROR'}: ${(e as Error).message}`;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return { address, error: error || 'no answer' };
}

/** The whole view: stores, regions, replicas with Raft status. */
export async function gatherCluster(o: ConnectionOptions): Promise<ClusterView> {
  const { answers, byId } = await gatherStores(o);
  const regions = mergeRegions(answers);
  const servers = [...byId.entries()].map(([id, a]) => ({ id, address: a.address }));
  const bound = Math.min(PER_STORE_MS, o.timeoutMs);
  const views = await Promise.all(regions.map((r) => regionView(r, byId, servers, bound, o.cluster)));

  // A store that did not answer is still named by the regions that list it as a peer.
  const idOf = new Map<string, string>();
  for (const a of answers) for (const r of a.regions?.regions ?? []) for (const p of [...r.voters, ...r.learners]) idOf.set(p.address, p.id);
  const stores: StoreView[] = answers.map((a) => ({
    id: a.regions?.storeId ?? idOf.get(a.address) ?? '',
    address: a.address,
    up: a.regions !== undefined,
    ...(a.error && !a.regions ? { error: a.error } : {}),
    regionsLed: views.filter((v) => v.leader !== '' && v.leader === a.regions?.storeId).map((v) => v.id),
    regionsHosted: (a.regions?.regions ?? []).map((r) => r.id),
    requests: (a.stats?.ops ?? []).reduce((n, op) => n + op.calls, 0),
  }));
  stores.sort((x, y) => (x.id || `~${x.address}`).localeCompare(y.id || `~${y.address}`));
  return { stores, regions: views };
}

/** One entry per region id: the description with the highest epoch any store has. */
function mergeRegions(answers: Answer[]): RegionInfo[] {
  const best = new Map<string, RegionInfo>();
  for (const a of answers) {
    for (const r of a.regions?.regions ?? []) {
      const cur = best.get(r.id);
      if (!cur || r.epoch.version > cur.epoch.version || (r.epoch.version === cur.epoch.version && r.epoch.confVer > cur.epoch.confVer)) best.set(r.id, r);
    }
  }
  return [...best.values()].sort((x, y) => Buffer.compare(Buffer.from(fromWireKey(x.startKey)), Buffer.from(fromWireKey(y.startKey))));
}

async function regionView(r: RegionInfo, byId: Map<string, Answer>, servers: Array<{ id: string; address: string }>, boundMs: number, cluster: string): Promise<RegionView> {
  // Stats of every store that hosts the region: role, term, commit and applied index.
  const stats = [...byId.entries()].flatMap(([store, a]) => {
    const g = a.stats?.regions.find((x) => x.id === r.id);
    return g ? [{ store, g }] : [];
  });
  const leaderStat = stats.filter((s) => s.g.role === 'leader').sort((x, y) => y.g.term - x.g.term)[0];
  const leader = leaderStat?.store ?? r.leader;
  const statuses = new Map<string, Record<string, unknown>>();
  if (servers.length > 0 && stats.length > 0) {
    const rc = new RaftClient({ servers, groupId: r.id, timeoutMs: boundMs, attemptTimeoutMs: boundMs, cluster });
    try {
      await Promise.all(
        stats.map(({ store }) =>
          rc.status(store).then(
            (s) => statuses.set(store, s),
            () => undefined, // shown as '-'
          ),
        ),
      );
    } finally {
      await rc.close();
    }
  }
  const leaderStatus = leader ? statuses.get(leader) : undefined;
  const leaderLast = num(leaderStatus?.['lastIndex']);
  const progress = new Map<string, number>();
  for (const p of (leaderStatus?.['peers'] as Array<{ id: string; match: number }> | undefined) ?? []) progress.set(p.id, p.match);
  // Membership from the leader's Raft configuration when known: it follows add-peer/remove-peer
  // at once, while the region descriptor's voters are those the region was created with.
  const conf = leaderStatus?.['confState'] as { voters: string[]; votersOutgoing?: string[]; learners: string[] } | undefined;
  const voters = conf ? [...new Set([...conf.voters, ...(conf.votersOutgoing ?? [])])] : r.voters.map((p) => p.id);
  const learners = conf ? conf.learners : r.learners.map((p) => p.id);
  const replicas: ReplicaView[] = stats
    .map(({ store, g }) => {
      const st = statuses.get(store);
      const match = store === leader ? leaderLast : progress.get(store);
      return {
        store,
        role: g.role,
        term: g.term,
        commitIndex: g.commitIndex,
        appliedIndex: g.appliedIndex,
        lastIndex: num(st?.['lastIndex']),
        lag: leaderLast !== null && match !== undefined && match !== null ? Math.max(0, leaderLast - match) : null,
        learner: learners.includes(store),
        member: voters.includes(store) || learners.includes(store),
      };
    })
    .sort((x, y) => x.store.localeCompare(y.store));
  return {
    id: r.id,
    startKey: r.startKey === '' ? '' : showBytes(fromWireKey(r.startKey)),
    endKey: r.endKey === '' ? '' : showBytes(fromWireKey(r.endKey)),
    epoch: { version: r.epoch.version, confVer: r.epoch.confVer },
    leader,
    term: leaderStat?.g.term ?? Math.max(0, ...stats.map((s) => s.g.term)),
    voters,
    learners,
    replicas,
  };
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** "[-inf, g)" */
export function rangeText(r: { startKey: string; endKey: string }): string {
  return `[${r.startKey === '' ? '-inf' : r.startKey}, ${r.endKey === '' ? '+inf' : r.endKey})`;
}
