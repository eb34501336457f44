// `raftkv admin pd|decommission|scheduler`: the placement driver's view of the cluster (stores
// with their state and load, regions with sizes, operators in progress, scheduler switches) and
// its admin actions. Requests go to any endpoint and follow NOT_LEADER to PD's leader.

import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { parseAddress } from '../config/address.js';
import type { KvErrorHeader } from '../kv/protocol.js';
import type { ClusterReply, PdAdmin } from '../pd/pd-protocol.js';
import { PdTag } from '../pd/pd-protocol.js';
import { decodeEnvelope, encodeEnvelope } from '../raft/runtime/rpc-router.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import { type ConnectionOptions, endpointsOf, examples, printJson, printLines, table, withConnection } from './common.js';
import { CliError, Exit } from './errors.js';

const quiet = { debug() {}, info() {}, warn() {} };

/** One PD request: tries each endpoint, follows NOT_LEADER hints; CliError when nobody answers. */
export async function pdRequest<T>(o: ConnectionOptions, tag: PdTag, header: unknown): Promise<T> {
  const t = new TcpTransport({ nodeId: `cli-${randomBytes(6).toString('hex')}`, cluster: o.cluster, logger: quiet });
  const deadline = Date.now() + o.timeoutMs;
  const queue = [...endpointsOf(o)];
  const tried = new Set<string>();
  let last = 'no endpoint answered';
  try {
    while (queue.length > 0 && Date.now() < deadline) {
      const address = queue.shift()!;
      if (tried.has(address)) continue;
      tried.add(address);
      const a = parseAddress(address);
      if (!a) continue;
      const id = `@${address}`;
      t.setPeer(id, a.host, a.port);
      try {
        const res = decodeEnvelope<T | KvErrorHeader>(await t.request(id, '', encodeEnvelope(tag, header), { timeoutMs: Math.max(1, deadline - Date.now()) }));
        if (res.tag === 0) return res.header as T;
        const e = res.header as KvErrorHeader;
        last = `${address}: ${e.code}: ${e.message}`;
        if (e.code === 'NOT_LEADER' && e.leaderAddress) queue.unshift(e.leaderAddress);
        else if (e.code !== 'NOT_LEADER' && e.code !== 'NO_LEADER') throw new CliError(e.code === 'INTERNAL' ? Exit.INTERNAL : Exit.REFUSED, `${e.code}: ${e.message}`);
      } catch (e) {
        if (e instanceof CliError) throw e;
        last = `${address}: ${(e as Error).message}`;
      }
    }
  } finally {
    await t.close();
  }
  throw new CliError(Exit.UNAVAILABLE, `the placement driver did not answer (${last}); is it enabled (--pd, or pd.enabled in the config)?`);
}

const gib = (n: number): string => (n > 0 ? `${(n / 1024 / 1024 / 1024).toFixed(1)} GiB` : "-");

export function registerPdAdmin(admin: Command): void {
  withConnection(admin.command('pd').description("the placement driver's view: stores with state and load, regions with sizes, operators in progress, schedulers"))
    .addHelpText('after', examples(['raftkv admin pd', 'raftkv admin pd --json']))
    .action(async (o: ConnectionOptions) => {
      const c = await pdRequest<ClusterReply>(o, PdTag.Cluster, {});
      if (o.json) return printJson(c);
      const lines = [`placement driver leader: ${c.leader}; schedulers: ${Object.entries(c.schedulers).map(([k, v]) => `${k} ${v ? 'on' : 'off'}`).join(', ')}`, ''];
      lines.push(
        ...table(
          ['STORE', 'ADDRESS', 'STATE', 'REGIONS', 'LEADERS', 'FREE', 'HEARD'],
          c.stores.map((s) => [s.id, s.address, s.down ? 'down' : s.state === 'offline' && s.drained ? 'offline (drained: can be stopped)' : s.state, String(s.regionCount), String(s.leaderCount), gib(s.availableBytes), s.lastHeartbeatAgoMs === null ? 'never' : `${s.lastHeartbeatAgoMs} ms ago`]),
        ),
        '',
        ...table(
          ['REGION', 'LEADER', 'VOTERS', 'LEARNERS', 'KEYS', 'EPOCH'],
          c.regions.map((r) => [r.region.id, r.region.leader || '-', r.region.voters.map((v) => v.id).join(','), r.region.learners.map((v) => v.id).join(',') || '-', String(r.keys), `v${r.region.epoch.version}/c${r.region.epoch.confVer}`]),
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
