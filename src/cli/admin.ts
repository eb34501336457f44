// `raftkv admin ...`: look at the cluster (status, regions, stores) and change it (split,
// transfer-leader, add-peer, remove-peer, snapshot). Views come from cluster-view.ts; changes
// go through RaftClient.admin on the region's Raft group (groupId = region id), which finds the
// region's leader itself, or through the KV client for splits (a KV command in the region's log).

import { type Command, Option } from 'commander';
import { RaftClient } from '../client/raft-client.js';
import type { AdminAction } from '../server/protocol.js';
import { type ClusterView, type StoreView, gatherCluster, gatherStores, rangeText } from './cluster-view.js';
import { type ConnectionOptions, examples, printJson, printLines, showBytes, table, withConnection, withKv } from './common.js';
import { CliError, Exit } from './errors.js';
import { pdOperator, registerPdAdmin } from './pd.js';

const VIA_PD = "hand the change to the placement driver as an operator (PD creates a new replica on the store first, promotes it once caught up, moves the leader off a replica it removes); returns once PD took it: watch with 'raftkv admin pd'";

export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description('inspect and change the cluster: status, regions, stores, split, transfer-leader, add-peer, remove-peer, snapshot; with the placement driver: pd, decommission, scheduler')
    .addHelpText('after', examples(['raftkv admin status', 'raftkv admin regions --json', 'raftkv admin split 1 m', 'raftkv admin transfer-leader 1 n2']));

  registerPdAdmin(admin);

  withConnection(admin.command('status').description('the cluster at a glance: stores, then every region with its replicas'))
    .addHelpText(
      'after',
      examples(['raftkv admin status', 'raftkv admin status --endpoints 10.0.0.1:7201 --json'], '\nPer replica: ROLE, TERM, COMMIT and APPLIED index (from the store), LAG = leader lastIndex - match.\n'),
    )
    .action(async (o: ConnectionOptions) => {
      const v = await gatherCluster(o);
      if (o.json) return printJson(v);
      const up = v.stores.filter((s) => s.up).length;
      const led = v.regions.filter((r) => r.leader !== '').length;
      const lines = [`cluster: ${up} of ${v.stores.length} stores up, ${v.regions.length} regions, ${led} with a leader`, ''];
      lines.push(...storeTable(v.stores), '', ...regionTable(v));
      const problems = [
        ...v.stores.filter((s) => !s.up).map((s) => `store at ${s.address} is down (${s.error ?? 'no answer'})`),
        ...v.regions.filter((r) => r.leader === '').map((r) => `region ${r.id} has no leader`),
      ];
      if (problems.length > 0) lines.push('', ...problems.map((p) => `! ${p}`));
      printLines(lines);
    });

  withConnection(admin.command('regions').description('every region: range, epoch, leader, and per replica role, term, indexes and lag'))
    .addHelpText('after', examples(['raftkv admin regions', 'raftkv admin regions --json']))
    .action(async (o: ConnectionOptions) => {
      const v = await gatherCluster(o);
      if (o.json) printJson(v.regions);
      else printLines(regionTable(v));
    });

  withConnection(admin.command('stores').description('every store: address, state, regions led and hosted'))
    .addHelpText('after', examples(['raftkv admin stores', 'raftkv admin stores --json']))
    .action(async (o: ConnectionOptions) => {
      const v = await gatherCluster(o);
      if (o.json) printJson(v.stores);
      else printLines(storeTable(v.stores));
    });

  withConnection(admin.command('split').description("split a region in two at <key> (default: the region's middle key)").argument('<regionId>').argument('[key]', 'first key of the new right-hand region'))
    .option('--pd', VIA_PD, false)
    .addHelpText('after', examples(['raftkv admin split 1', 'raftkv admin split 1 m --json', 'raftkv admin split 1 --pd'], '\nA region needs a few keys (the store\'s splitMinKeys) before it can be split at its middle key.\nWith --pd the new region gets its id from PD.\n'))
    .action((regionId: string, key: string | undefined, o: ConnectionOptions & { pd: boolean }) =>
      o.pd ? pdOperator(o, { action: 'split', regionId, splitKey: key === undefined ? null : Buffer.from(key).toString('base64') }) :
      withKv(o, async (kv) => {
        const r = await kv.rangeSplit(regionId, key);
        const doc = { region: regionId, left: r.left, right: r.right, splitKey: showBytes(r.splitKey) };
        if (o.json) printJson(doc);
        else printLines([`split region ${regionId} at '${doc.splitKey}': region ${r.left} keeps the keys below it, new region ${r.right} the rest`]);
      }),
    );

  withConnection(admin.command('transfer-leader').description('move the leadership of a region to one of its voters').argument('<regionId>').argument('<storeId>'))
    .option('--pd', VIA_PD, false)
    .addHelpText('after', examples(['raftkv admin transfer-leader 1 n2', 'raftkv admin transfer-leader 1 n2 --pd']))
    .action(async (regionId: string, storeId: string, o: ConnectionOptions & { pd: boolean }) => {
      if (o.pd) return pdOperator(o, { action: 'transferLeader', regionId, to: storeId });
      await groupAdmin(o, regionId, storeId, { action: 'transferLeader', node: storeId }, `region ${regionId}: leader is now ${storeId}`);
    });

  withConnection(admin.command('add-peer').description('add a store to the Raft group of a region (as a voter, or a learner with --learner)').argument('<regionId>').argument('<storeId>'))
    .option('--learner', 'add as a learner (replicates, does not vote); promote later with add-peer again', false)
    .addHelpText(
      'after',
      examples(['raftkv admin add-peer 1 n4 --learner', 'raftkv admin add-peer 1 n4', 'raftkv admin add-peer 1 s4 --pd'], "\nWithout --pd the store must host the region already (its Raft group must exist there); this only changes the group's membership.\nWith --pd, PD opens the replica on the store, adds it as a learner and promotes it once it caught up.\n"),
    )
    .option('--pd', VIA_PD, false)
    .action(async (regionId: string, storeId: string, o: ConnectionOptions & { learner: boolean; pd: boolean }) => {
      if (o.pd) {
        if (o.learner) throw new CliError(Exit.USAGE, '--learner and --pd do not go together (PD adds a voter, through a learner that catches up first)');
        return pdOperator(o, { action: 'addPeer', regionId, store: storeId });
      }
      const action: AdminAction = { action: o.learner ? 'addLearner' : 'addVoter', node: storeId };
      await groupAdmin(o, regionId, storeId, action, `region ${regionId}: added ${storeId} as a ${o.learner ? 'learner' : 'voter'}`);
    });

  withConnection(admin.command('remove-peer').description('remove a store from the Raft group of a region').argument('<regionId>').argument('<storeId>'))
    .addHelpText('after', examples(['raftkv admin remove-peer 1 n3', 'raftkv admin remove-peer 1 s3 --pd'], '\nThe store must host the region. Removing the leader hands leadership to a caught-up voter first.\n'))
    .option('--pd', VIA_PD, false)
    .action(async (regionId: string, storeId: string, o: ConnectionOptions & { pd: boolean }) => {
      if (o.pd) return pdOperator(o, { action: 'removePeer', regionId, store: storeId });
      await groupAdmin(o, regionId, storeId, { action: 'removeNode', node: storeId }, `region ${regionId}: removed ${storeId}`);
    });

  withConnection(admin.command('snapshot').description("take a snapshot of a region's state machine now and compact its log").argument('<regionId>'))
    .addOption(new Option('--store <storeId>', 'only on this store (default: on every store hosting the region)'))
    .addHelpText('after', examples(['raftkv admin snapshot 1', 'raftkv admin snapshot 1 --store n2 --json']))
    .action(async (regionId: string, o: ConnectionOptions & { store?: string }) => {
      const { servers, region } = await locate(o, regionId, o.store);
      const targets = o.store ? servers.filter((s) => s.id === o.store) : servers.filter((s) => region.hostedBy.includes(s.id));
      const results = await Promise.all(
        targets.map(async (s) => {
          // A client that knows only this store: the snapshot is taken there, not on the leader.
          const rc = new RaftClient({ servers: [s], groupId: regionId, timeoutMs: o.timeoutMs, cluster: o.cluster });
          try {
            const r = (await rc.admin({ action: 'snapshot' })) as { index: number };
            return { store: s.id, index: r.index };
          } finally {
            await rc.close();
          }
        }),
      );
      if (o.json) printJson({ region: regionId, snapshots: results });
      else printLines(results.map((r) => `region ${regionId}: snapshot on ${r.store} at index ${r.index}`));
    });
}

/** The stores (id, address) and where the region lives; refuses unknown regions and stores (exit 4). */
async function locate(o: ConnectionOptions, regionId: string, storeId?: string): Promise<{ servers: Array<{ id: string; address: string }>; region: { hostedBy: string[] } }> {
  const { byId } = await gatherStores(o);
  const servers = [...byId.entries()].map(([id, a]) => ({ id, address: a.address }));
  const hostedBy = servers.filter((s) => byId.get(s.id)!.regions!.regions.some((r) => r.id === regionId)).map((s) => s.id);
  if (hostedBy.length === 0) {
    const ids = [...new Set([...byId.values()].flatMap((a) => a.regions!.regions.map((r) => r.id)))];
    throw new CliError(Exit.REFUSED, `no region '${regionId}' (regions: ${ids.join(', ') || 'none'})`);
  }
  if (storeId !== undefined && !byId.has(storeId)) throw new CliError(Exit.REFUSED, `no store '${storeId}' answered (stores: ${[...byId.keys()].join(', ')})`);
  return { servers, region: { hostedBy } };
}

/** A membership or leadership change on the region's Raft group, sent to its leader. */
async function groupAdmin(o: ConnectionOptions, regionId: string, storeId: string, action: AdminAction, done: string): Promise<void> {
  const { servers } = await locate(o, regionId, storeId);
  const rc = new RaftClient({ servers, groupId: regionId, timeoutMs: o.timeoutMs, cluster: o.cluster });
  try {
    const r = (await rc.admin(action)) as { index?: number; confState?: { voters: string[]; learners: string[] } };
    const conf = r?.confState;
    if (o.json) printJson({ region: regionId, store: storeId, action: action.action, ...(r && typeof r === 'object' ? r : {}) });
    else printLines([`${done}${conf ? ` (voters: ${conf.voters.join(',')}; learners: ${conf.learners.join(',') || '-'})` : ''}`]);
  } finally {
    await rc.close();
  }
}

function storeTable(stores: StoreView[]): string[] {
  return table(
    ['STORE', 'ADDRESS', 'STATE', 'LEADS', 'HOSTS', 'REQUESTS', 'LEADER OF'],
    stores.map((s) => [s.id || '?', s.address, s.up ? 'up' : 'down', s.up ? String(s.regionsLed.length) : '-', s.up ? String(s.regionsHosted.length) : '-', s.up ? String(s.requests) : '-', s.regionsLed.join(',') || '-']),
  );
}

function regionTable(v: ClusterView): string[] {
  const rows: string[][] = [];
  for (const r of v.regions) {
    const replicas = r.replicas.length > 0 ? r.replicas : [undefined];
    replicas.forEach((p, i) => {
      const head = i === 0 ? [r.id, rangeText(r), String(r.epoch.version), String(r.epoch.confVer), r.leader || '(none)'] : ['', '', '', '', ''];
      const tail = p
        ? [p.store, !p.member ? 'removed' : p.learner ? 'learner' : p.role, String(p.term), String(p.commitIndex), String(p.appliedIndex), p.lag === null ? '-' : String(p.lag)]
        : ['-', '-', '-', '-', '-', '-'];
      rows.push([...head, ...tail]);
    });
  }
  return table(['REGION', 'RANGE', 'VERSION', 'CONF', 'LEADER', 'STORE', 'ROLE', 'TERM', 'COMMIT', 'APPLIED', 'LAG'], rows);
}

