// `raftkv admin pd|decommission|scheduler`: the placement driver's view of the cluster (stores
// with their state and load, regions with sizes, operators in progress, scheduler switches) and
// its admin actions. Requests go to any endpoint and follow NOT_LEADER to PD's leader.

import type { Command } from 'commander';
import type { ClusterReply, PdAdmin } from '../pd/pd-protocol.js';
import { PdTag } from '../pd/pd-protocol.js';
import { PdCallError, pdCall } from '../pd/pd-client.js';
import { type ConnectionOptions, endpointsOf, examples, printJson, printLines, table, withConnection } from './common.js';
import { CliError, Exit } from './errors.js';

/** One PD request: tries each endpoint, follows NOT_LEADER hints; CliError when nobody answers. */
export async function pdRequest<T>(o: ConnectionOptions, tag: PdTag, header: unknown): Promise<T> {
  try {
    return await pdCall<T>({ addresses: endpointsOf(o), cluster: o.cluster, timeoutMs: o.timeoutMs }, tag, header);
  } catch (e) {
    if (!(e instanceof PdCallError)) throw e;
    if (e.code === 'UNAVAILABLE') throw new CliError(Exit.UNAVAILABLE, `${e.message}; is it enabled (--pd, or pd.enabled in the config)?`);
    throw new CliError(e.code === 'INTERNAL' ? Exit.INTERNAL : Exit.REFUSED, `${e.code}: ${e.message}`);
  }
}

/** An admin change handed to PD as an operator (split, transfer-leader, add-peer, remove-peer with --pd). */
export async function pdOperator(o: ConnectionOptions, a: PdAdmin): Promise<void> {
  const r = await pdRequest<{ regionId: string; steps: string[] }>(o, PdTag.Admin, a);
  if (o.json) return printJson(r);
  printLines([`placement driver operator on region ${r.regionId}: ${r.steps.join(', then ')} (watch with: raftkv admin pd)`]);
}

const gib = (n: number): string => (n > 0 ? `${(n / 1024 / 1024 / 1024).toFixed(1)} GiB` : '-');
const kib = (n: number): string => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

export function registerPdAdmin(admin: Command): void {
  withConnection(admin.command('pd').description("the placement driver's view: stores with state and load, regions with sizes, operators in progress, schedulers"))
    .addHelpText('after', examples(['raftkv admin pd', 'raftkv admin pd --json']))
    .action(async (o: ConnectionOptions) => {
      const c = await pdRequest<ClusterReply>(o, PdTag.Cluster, {});
      if (o.json) return printJson(c);
      const lines = [`placement driver leader: ${c.leader}; schedulers: ${Object.entries(c.schedulers).map(([k, v]) => `${k} ${v ? 'on' : 'off'}`).join(', ')}`, ''];
      lines.push(
        ...table(
          ['STORE', 'ADDRESS', 'STATE', 'REGIONS', 'LEADERS', 'READS/S', 'WRITES/S', 'FREE', 'HEARD'],
          c.stores.map((s) => [s.id, s.address, s.down ? 'down' : s.state === 'offline' && s.drained ? 'offline (drained: can be stopped)' : s.state, String(s.regionCount), String(s.leaderCount), String(s.readsPerSec ?? 0), String(s.writesPerSec ?? 0), gib(s.availableBytes), s.lastHeartbeatAgoMs === null ? 'never' : `${s.lastHeartbeatAgoMs} ms ago`]),
        ),
        '',
        ...table(
          ['REGION', 'LEADER', 'VOTERS', 'LEARNERS', 'KEYS', 'SIZE', 'READS/S', 'WRITES/S', 'PENDING', 'DOWN', 'EPOCH'],
          c.regions.map((r) => [
            r.region.id,
            r.region.leader || '-',
            r.region.voters.map((v) => v.id).join(','),
            r.region.learners.map((v) => v.id).join(',') || '-',
            String(r.keys),
            kib(r.bytes),
            String(r.readsPerSec ?? 0),
            String(r.writesPerSec ?? 0),
            (r.pendingPeers ?? []).join(',') || '-',
            (r.downPeers ?? []).join(',') || '-',
            `v${r.region.epoch.version}/c${r.region.epoch.confVer}`,
          ]),
        ),
      );
      if (c.operators.length > 0) lines.push('', ...table(['REGION', 'OPERATOR', 'STEP', 'AGE', 'WHY'], c.operators.map((op) => [op.regionId, op.kind, op.step, `${op.ageMs} ms`, op.reason])));
      printLines(lines);
    });

  withConnection(admin.command('decommission').description('move every replica off a store; `admin pd` then shows it drained, ready to stop').argument('<storeId>'))
    .addHelpText('after', examples(['raftkv admin decommission s4', 'raftkv admin pd']))
    .action(async (store: string, o: ConnectionOptions) => {
      const r = await pdRequest<Record<string, unknown>>(o, PdTag.Admin, { action: 'decommission', store } satisfies PdAdmin);
      if (o.json) return printJson(r);
      printLines([`store ${store} is decommissioning: its replicas move away (watch with: raftkv admin pd)`]);
    });

  withConnection(admin.command('scheduler').description('switch one of the schedulers on or off: split, leaderBalance, replicaBalance, replaceDown').argument('<name>').argument('<on|off>'))
    .addHelpText('after', examples(['raftkv admin scheduler leaderBalance off', 'raftkv admin scheduler split on']))
    .action(async (name: string, state: string, o: ConnectionOptions) => {
      if (!['split', 'leaderBalance', 'replicaBalance', 'replaceDown'].includes(name)) throw new CliError(Exit.USAGE, `no scheduler '${name}' (split, leaderBalance, replicaBalance, replaceDown)`);
      if (state !== 'on' && state !== 'off') throw new CliError(Exit.USAGE, `want on or off, got '${state}'`);
      const r = await pdRequest<Record<string, unknown>>(o, PdTag.Admin, { action: 'scheduler', name: name as 'split', enabled: state === 'on' } satisfies PdAdmin);
      if (o.json) return printJson(r);
      printLines([`scheduler ${name} ${state}`]);
    });
}
